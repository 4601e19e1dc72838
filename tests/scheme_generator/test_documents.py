"""The customer's documents (domain §7): the HV reply sheet holds every block of the State
Grid template and no internal figure; the LV notice is pushed without a signature; the
planner's annex carries what the customer's copy leaves out."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import pytest

from scheme_generator import generate_scheme, parse_application, render_reply_sheet
from tests.scheme_generator.test_scheme import context

SITE = {"lon": 114.3474, "lat": 36.0828}
HV_BLOCKS = (
    "一、客户基本信息",
    "二、供电方式及电源",
    "三、受电装置",
    "四、计量方案",
    "五、计费方案",
    "六、产权分界点及运行维护责任",
    "七、继电保护及分界开关",
    "八、电能质量",
    "九、自备应急电源及保安措施",
    "十、调度关系",
    "十一、办电环节及时限",
    "十二、费用",
    "十三、申请资料",
    "方案有效期",
    "答复日期",
    "客户经理",
    "95598",
    "供电单位（盖章）",
    "客户签收",
)
HV_LABELS = (
    "用电地址",
    "申请编号",
    "行业分类",
    "用电类别",
    "负荷等级",
    "电源性质",
    "母线段",
    "进线方式",
    "导线",
    "计量方式",
    "电流互感器",
    "采集终端",
    "电价类别",
    "功率因数考核标准",
    "运行维护责任",
    "分界开关",
)


def application(**fields: Any) -> dict[str, Any]:
    return {
        "customer_name": "安阳市某某有限公司",
        "customer_type": "non_resident",
        "business": "new",
        "location": SITE,
        "application_date": "2026-11-30",
        **fields,
    }


@cache
def scheme(kind: str) -> dict[str, Any]:
    fields = {
        "hospital": {
            "industry": "public_service",
            "capacity_kva": 1600,
            "important_user_level": "second",
            "security_load_kva": 300,
        },
        "factory": {"industry": "industrial", "capacity_kva": 1000},
        "charging": {"category": "ev_charging", "capacity_kva": 800},
        "resident": {"customer_type": "resident", "capacity_kva": 8, "phases": 1},
        "workshop": {"industry": "industrial", "ownership": "chain_branch", "capacity_kva": 90},
    }[kind]
    return generate_scheme(context(), parse_application(application(**fields)))


def internal_figures(s: dict[str, Any]) -> list[str]:
    """Strings that only an internal figure would put on the page."""
    out = [s["network"]["version"], str(s["rules_version"]), "可开放容量", "内部测算"]
    for o in s["options"]:
        if o["cost_cny"]["utility"] > 0:  # the utility's own investment
            out.append(f"{o['cost_cny']['utility']:,.0f} 元")
        for src in o["sources"]:
            out.append(src["connection_point_id"])
    return out


@pytest.mark.parametrize("kind", ["hospital", "factory", "charging"])
def test_hv_sheet_has_every_block_and_no_internal_figure(kind):
    s = scheme(kind)
    assert s["document"] == "reply_sheet"
    html = render_reply_sheet(s, application_id="0123456789abcdef")
    for block in (*HV_BLOCKS, *HV_LABELS):
        assert block in html, f"{kind}: {block}"
    assert "0123456789abcdef" in html
    for figure in internal_figures(s):
        assert figure not in html, f"{kind}: {figure}"
    assert "<script" not in html


def test_planner_annex_carries_the_internal_figures():
    s = scheme("factory")
    html = render_reply_sheet(s, audience="planner")
    for figure in internal_figures(s):
        assert figure in html
    assert "不向客户提供" in html


def test_the_sheet_states_the_terms():
    hospital = render_reply_sheet(scheme("hospital"))
    assert "二级重要电力用户" in hospital
    assert "冷备用" in hospital  # a second-level user's backup
    assert "高可靠性供电费" in hospital and "元/kVA" in hospital
    assert "保安负荷 300 kVA" in hospital
    factory = render_reply_sheet(scheme("factory"))
    assert "高供高计" in factory and "两部制" in factory and "0.90" in factory
    charging = render_reply_sheet(scheme("charging"))
    assert "GB/T 14549" in charging and "谐波" in charging


@pytest.mark.parametrize("kind", ["resident", "workshop"])
def test_lv_gets_a_notice_without_signature(kind):
    s = scheme(kind)
    assert s["document"] == "notice"
    html = render_reply_sheet(s)
    assert "供电方案告知书" in html and "供电方案答复单" not in html
    assert "客户签收" not in html and "盖章" not in html and "方案有效期" not in html
    assert "无需签收" in html
    assert s["due_date"] in html
    assert "供电公司为您做什么" in html and "您需要做什么" in html
    for figure in internal_figures(s):
        assert figure not in html


def test_an_unknown_option_or_audience_is_refused():
    s = scheme("factory")
    with pytest.raises(ValueError, match="no option"):
        render_reply_sheet(s, "ZZ")
    with pytest.raises(ValueError, match="audience"):
        render_reply_sheet(s, audience="everyone")


def test_customer_text_is_escaped():
    s = generate_scheme(
        context(),
        parse_application(
            application(
                customer_name="<script>alert(1)</script>&Co",
                industry="industrial",
                capacity_kva=1000,
            )
        ),
    )
    html = render_reply_sheet(s)
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert not re.search(r"&amp;amp;", html)
