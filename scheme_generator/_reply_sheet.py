"""The documents a customer receives, in Chinese, from the scheme JSON (domain §7):

- HV: the 供电方案答复单 on the State Grid template — customer, supply and sources with
  their nature, receiving installation, metering, tariff, demarcation and maintenance,
  protection, power quality, emergency source, dispatch, steps and dates, fees,
  materials, validity, reply date, contacts, and the signature blocks;
- LV: the 供电方案告知书 the platform pushes (no reply step, no signature; seed 三(二)4).

Internal figures (openable capacity, network and rules versions, the utility's own
investment) appear only in the planner's annex (``audience="planner"``).
"""

from __future__ import annotations

from html import escape
from typing import Any

STEP = {
    "application": "用电申请",
    "scheme_reply": "供电方案答复",
    "external_works": "客户外部工程实施",
    "metering_connection": "装表接电",
}
INSPECTION = {
    "design_review": "设计审查",
    "midway_inspection": "中间检查",
    "completion_inspection": "竣工检验",
}
MATERIAL = {
    "identity_proof": "身份证明",
    "subject_proof": "主体证明（营业执照等）",
    "property_proof": "产权证明",
    "government_approval": "政府部门批复、核准或备案文件",
    "address_list": "报装地址列表（加盖运营商公章）",
    "authorisation_letter": "授权委托书",
    "agent_identity_proof": "经办人有效身份证明",
    "voluntary_hv_proof": "自愿高压接入证明（小微企业书面申请）",
}
CLASS = {
    "lv_resident": "低压居民",
    "lv_non_resident": "低压非居民",
    "lv_small_micro": "低压小微企业",
    "hv_ordinary": "高压普通客户",
    "hv_important": "高压重要客户",
}
BOUNDARY = {
    "red_line": "投资至客户规划红线",
    "connection_point": "投资至公共电网接入点",
    "meter_box": "投资至表箱（含表箱）",
}
OUTAGE = {
    "monthly": "月度停（送）电计划",
    "biweekly": "双周停（送）电计划",
    "weekly": "单周停（送）电计划",
    "daily": "日停（送）电计划",
    "live_work": "带电作业，即报即接",
}
LINE = {"cable": "电缆", "overhead": "架空线"}
KIND = {
    "substation_bay": "变电站间隔",
    "ring_main_unit": "环网柜",
    "pole": "杆塔",
    "switching_station": "开关站",
    "lv_branch_box": "低压分支箱",
}
MEASURE = {
    "partial_connection": "先行部分接入",
    "temporary_source": "临时电源",
    "load_transfer": "负荷转供",
    "staged": "分期送电",
    "upgrade": "电网改造",
}
PROJECT = {
    "reconductor": "线路改造（换线）",
    "new_feeder": "新出10千伏线路",
    "transformer_replacement": "变压器增容更换",
    "distribution_transformer_replacement": "配变增容更换",
    "main_transformer_replacement": "主变增容更换",
    "new_distribution_transformer": "新增配变布点",
    "hv_bay": "新建高压间隔",
}
PARTY = {"utility": "供电公司", "customer": "客户"}
ROUTE = {"corridor": "沿道路及电缆通道", "geodesic": "直线距离估算（待勘测）", "estimate": "估算"}
MEASURE_EXTRA = {"load_transfer": "负荷转供（经联络开关，潮流校核）"}
EMERGENCY = {"diesel_generator": "柴油发电机组", "ups_eps": "UPS/EPS 不间断电源"}
NON_ELECTRIC = {
    "manual_operating_procedures": "停电应急操作规程",
    "emergency_lighting": "应急照明",
    "process_safe_shutdown": "工艺安全停机措施",
}
FUNDING = {
    "annual_investment_plan": "年度投资计划",
    "decision_then_plan": "决策后纳入投资计划",
    "project_package": "10千伏项目包",
    "annual_cost_plan": "年度成本计划",
}
DEMARCATION = {
    "meter_box": "客户外墙表箱处（含表箱）",
    "first_breaker_outside_red_line": "客户红线外第一断路器或第一支持物",
    "connection_point": "公共电网接入点处（接入点断路器）",
}
PAYER = {"utility": "供电公司", "customer": "客户", "government": "政府"}


INDUSTRY = {
    "industrial": "工业",
    "commercial": "商业",
    "residential": "居民生活",
    "non_resident_lighting": "非居民照明",
    "agriculture": "农业生产",
    "telecom_base_station": "通信基站",
    "petrol_station": "加油站",
    "public_service": "公共服务（医院、学校等）",
}
LEVEL = {
    "special": "特级重要电力用户",
    "first": "一级重要电力用户",
    "second": "二级重要电力用户",
    "temporary": "临时性重要电力用户",
}
BUSINESS = {"new": "新装", "capacity_increase": "增容"}
WIRING = {
    "single_phase": "单相",
    "three_phase_three_wire": "三相三线",
    "three_phase_four_wire": "三相四线",
}
METER_POINT = {
    "demarcation_point": "产权分界点处",
    "transformer_lv_side": "客户变压器低压侧（高供低计）",
    "household_meters": "每户电能表（一户一表）",
}
AREA = {"city_centre": "市中心区", "urban": "市区", "town": "城镇", "rural": "农村"}

_CSS = """
@page { size: A4; margin: 15mm; }
* { box-sizing: border-box; }
body { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "SimSun", sans-serif;
       margin: 1.5em auto; max-width: 52em; padding: 0 .8em; color: #111; line-height: 1.5; }
h1 { text-align: center; letter-spacing: .3em; font-size: 1.5em; margin-bottom: .2em; }
.no { text-align: center; margin-top: 0; color: #333; }
h2 { font-size: 1.05em; margin: 1.1em 0 .3em; border-bottom: 1px solid #444; }
.wrap { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; margin: .4em 0; }
th, td { border: 1px solid #444; padding: .3em .45em; text-align: left; vertical-align: top;
         overflow-wrap: anywhere; }
th { background: #f1f1f1; width: 9em; font-weight: 600; }
table.grid th { width: auto; }
.sign { margin-top: 2em; display: grid; grid-template-columns: 1fr 1fr; gap: 1em; }
.sign div { min-height: 5em; border-top: 1px solid #444; padding-top: .3em; }
.annex { margin-top: 2em; border: 2px dashed #a33; padding: .2em .8em; }
.annex h2 { color: #a33; }
@media (max-width: 600px) { th { width: 6.5em; } body { margin: .5em auto; font-size: 15px; } }
@media print { body { margin: 0; max-width: none; } .annex { break-before: page; } }
"""


def _e(value: Any) -> str:
    return escape(str(value)) if value is not None else "—"


def _page(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>{body}</body></html>\n"
    )


def _table(rows: list[tuple[str, str]]) -> str:
    inner = "".join(f"<tr><th>{escape(k)}</th><td>{v}</td></tr>" for k, v in rows)
    return f'<div class="wrap"><table>{inner}</table></div>'


def _grid(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return f'<div class="wrap"><table class="grid"><tr>{head}</tr>{body}</table></div>'


def _label(table: dict[str, str], code: Any, default: Any = None) -> Any:
    """``table``'s words for ``code`` (any JSON value), else ``default``."""
    return table.get(code, default) if isinstance(code, str) else default


def _volt(kv: float) -> str:
    return f"{kv * 1000:g} V" if kv < 1 else f"{kv:g} kV"


def _money(value: Any) -> str:
    return f"{value:,.0f} 元" if isinstance(value, int | float) else "—"


def render_reply_sheet(
    scheme: dict[str, Any],
    option_id: str | None = None,
    *,
    audience: str = "customer",
    application_id: str | None = None,
    reply_date: str | None = None,
) -> str:
    """The customer's document for ``option_id`` (default: the chosen or recommended
    option): the HV reply sheet or the LV notice, by ``scheme["document"]``; with
    ``audience="planner"`` an annex of the internal figures follows. Self-contained
    printable HTML (no scripts, fonts or images)."""
    if audience not in ("customer", "planner"):
        raise ValueError(f"audience must be customer or planner, not {audience!r}")
    opt_id = option_id or scheme.get("recommended_option_id")
    option = next((o for o in scheme.get("options", []) if o["option_id"] == opt_id), None)
    if option_id is not None and option is None:
        raise ValueError(f"the scheme has no option {option_id!r}")
    notice = scheme.get("document") == "notice"
    body = (
        _notice(scheme, option, application_id)
        if notice
        else _reply(scheme, option, application_id, reply_date)
    )
    if audience == "planner":
        body += _annex(scheme)
    return _page("供电方案告知书" if notice else "供电方案答复单", body)


def _customer_rows(scheme: dict[str, Any], application_id: str | None) -> list[tuple[str, str]]:
    cust = scheme["customer"]
    site = scheme.get("site", {})
    place = cust.get("address") or (
        f"{AREA.get(site.get('area_class'), '')}（经度 {site.get('lon', 0):.5f}，"
        f"纬度 {site.get('lat', 0):.5f}）"
    )
    level = scheme.get("classification", {}).get("customer_class")
    rows = [
        ("户名", _e(cust["name"])),
        ("申请编号", _e(application_id or "（受理后生成）")),
        ("用电地址", _e(place)),
        ("业务类型", _e(BUSINESS.get(cust.get("business"), cust.get("business")))),
        ("行业分类", _e(INDUSTRY.get(cust.get("industry"), cust.get("industry")))),
        ("用电类别", _e((scheme.get("tariff") or {}).get("category_name"))),
        ("客户类别", _e(CLASS.get(level))),
    ]
    if scheme["supply_voltage_kv"] >= 1:
        rows.append(("负荷等级", _e(_label(LEVEL, cust.get("important_user_level"), "一般用户"))))
    rows.append(("申请容量", f"{cust['capacity_kva']:g} kVA"))
    return rows


def _reply(
    scheme: dict[str, Any],
    option: dict[str, Any] | None,
    application_id: str | None,
    reply_date: str | None,
) -> str:
    parts: list[str] = ["<h1>供电方案答复单</h1>"]
    parts.append("<h2>一、客户基本信息</h2>" + _table(_customer_rows(scheme, application_id)))
    volt = scheme["supply_voltage_kv"]
    supply = [
        ("供电电压", f"{_volt(volt)}，{scheme['phases']} 相"),
        (
            "供电电源",
            f"{scheme['sources_required']} 路"
            + ("（自公用变电站专线接入）" if scheme.get("dedicated_line") else ""),
        ),
        (
            "供电容量",
            f"{scheme['capacity_kva']:g} kVA（计算负荷 {scheme.get('demand_kva', 0):g} kVA）",
        ),
    ]
    parts.append("<h2>二、供电方式及电源</h2>" + _table(supply))
    if option is not None:
        parts.append(_sources(option) + _reliability_text(option.get("reliability")))
    else:
        parts.append("<p>暂无可立即接入的电源，见下文过渡方案。</p>")
    installation = scheme.get("receiving_installation")
    if installation:
        units = "；".join(
            f"{u['count']} 台 × {u['kva']:g} kVA" for u in installation["transformers"]
        )
        owner = "供电公司投资建设（公用）" if installation.get("owner") == "utility" else "客户"
        parts.append(
            "<h2>三、受电装置</h2>"
            + _table([("变压器", escape(units)), ("产权及投资", escape(owner))])
        )
    parts.append("<h2>四、计量方案</h2>" + _metering(scheme.get("metering")))
    parts.append("<h2>五、计费方案</h2>" + _tariff(scheme.get("tariff")))
    parts.append(
        "<h2>六、产权分界点及运行维护责任</h2>"
        + _table(
            [
                ("产权分界点", _e(_label(DEMARCATION, scheme.get("demarcation_point")))),
                ("投资界面", _e(BOUNDARY.get(scheme["investment_boundary"]))),
                ("外部工程出资", _e(_label(PAYER, scheme.get("external_works_payer")))),
                ("运行维护责任", _e(scheme.get("maintenance_responsibility"))),
            ]
        )
    )
    prot = (option or {}).get("protection") or {}
    parts.append(
        "<h2>七、继电保护及分界开关</h2>"
        + _table(
            [
                ("分界开关", "；".join(escape(x) for x in prot.get("demarcation_switch", []))),
                ("客户进线保护", _e(prot.get("customer_incoming"))),
            ]
        )
    )
    quality = scheme.get("power_quality") or []
    parts.append(
        "<h2>八、电能质量</h2>"
        + (
            _grid(
                ["负荷", "要求", "标准"],
                [[escape(q["load"]), escape(q["duty"]), escape(q["standard"])] for q in quality],
            )
            if quality
            else "<p>无冲击性、非线性负荷申报；投运后如有，应满足 GB/T 14549、GB/T 12326。</p>"
        )
    )
    emergency = _emergency(scheme.get("emergency_source")).replace(
        "<h2>自备应急电源及非电性质保安措施</h2>", ""
    )
    parts.append(
        "<h2>九、自备应急电源及保安措施</h2>" + (emergency or "<p>非重要电力用户，不作要求。</p>")
    )
    parts.append(
        "<h2>十、调度关系</h2>" + f"<p>{_e((scheme.get('dispatch') or {}).get('text'))}</p>"
    )
    parts.append("<h2>十一、办电环节及时限</h2>" + _steps(scheme, option))
    parts.append("<h2>十二、费用</h2>" + _fees(scheme, option))
    parts.append("<h2>十三、申请资料</h2>" + f"<p>{_materials(scheme)}</p>")
    plan = _plan(scheme.get("transition_plan"))
    if plan:
        parts.append("<h2>十四、过渡方案（先接入、后改造）</h2>" + plan)
    parts.append(_other(scheme))
    contacts = scheme.get("contacts") or {}
    manager = contacts.get("customer_manager") or "受理后由客户经理与您联系"
    parts.append(
        "<h2>方案有效期及联系方式</h2>"
        + _table(
            [
                ("方案有效期", f"{scheme['validity_months']} 个月（自答复之日起）"),
                ("答复日期", _e(reply_date or _reply_due(scheme))),
                ("客户经理", _e(manager)),
                ("服务热线", _e(contacts.get("hotline", "95598"))),
            ]
        )
    )
    parts.append(
        '<div class="sign"><div>供电单位（盖章）<br>经办人：<br>日期：</div>'
        "<div>客户签收（签字、盖章）<br>日期：</div></div>"
    )
    return "".join(parts)


def _reply_due(scheme: dict[str, Any]) -> str | None:
    for st in (scheme.get("schedule") or {}).get("steps", []):
        if st.get("step") == "scheme_reply":
            return st.get("due_date")
    return None


def _sources(option: dict[str, Any]) -> str:
    """Each source of the option as its own table: nature, substation, bus section,
    feeder, connection point, incoming line and conductor, route, capacity."""
    out = [f"<p>方案 {escape(option['option_id'])}：</p>"]
    for k, s in enumerate(option["sources"], start=1):
        c = s.get("conductor") or {}
        nature = (s.get("nature") or {}).get("text") or ("主供" if s["role"] == "main" else "备用")
        circuits = int(s.get("circuits") or 1)
        way = (_label(LINE, s.get("line_type")) or "—") + (
            f"进线，{circuits} 回" if circuits > 1 else "进线"
        )
        conductor = _e(c.get("type"))
        if c.get("cross_section_mm2"):
            conductor += f"，截面 {c['cross_section_mm2']:g} mm²"
        route = s.get("route") or {}
        length = s.get("length_m")
        path = (
            f"约 {length:,.0f} m，{escape(_label(ROUTE, route.get('method'), '—'))}"
            if isinstance(length, int | float)
            else "—"
        )
        kind = _label(KIND, s["connection_point_kind"])
        rows = [
            ("电源性质", escape(nature)),
            ("变电站", _e(s.get("substation_name"))),
            ("母线段", _e(s.get("bus_section_name") or s.get("bus_section_id"))),
            ("线路", _e(s.get("feeder_name") or "—")),
            ("接入点", f"{_e(s['connection_point_name'])}（{_e(kind)}）"),
            ("进线方式", escape(way)),
            ("导线", conductor),
            ("路径长度", path),
            ("供电容量", _kva(s.get("carries_kva"))),
        ]
        out.append(f"<p>第 {k} 路电源</p>" + _table(rows))
    return "".join(out)


def _metering(m: dict[str, Any] | None) -> str:
    if not m:
        return "<p>计量点设在产权分界点处，计量装置由供电公司投资。</p>"
    meter = m.get("meter") or {}
    ct, vt = m.get("ct"), m.get("vt")
    rows = [
        ("计量点", _e(_label(METER_POINT, m.get("point"), m.get("point")))),
        ("计量方式", _e(m.get("method_name"))),
        ("计量装置分类", f"{_e(m.get('metering_class'))} 类（DL/T 448）"),
        (
            "电能表",
            f"{_e(_label(WIRING, meter.get('wiring')))}智能电能表，"
            f"有功 {_e(meter.get('active_accuracy'))} 级，"
            + ("直接接入" if meter.get("connection") == "direct" else "经互感器接入"),
        ),
        ("电流互感器", f"{_e(ct['ratio'])}，{_e(ct['accuracy'])} 级" if ct else "不设"),
        ("电压互感器", f"{_e(vt['ratio'])}，{_e(vt['accuracy'])} 级" if vt else "不设"),
        ("采集终端", _e(m.get("terminal"))),
        ("投资", "计量装置由供电公司投资、安装"),
    ]
    if m.get("households"):
        rows.insert(1, ("电能表数量", f"{m['households']} 户，每户一只"))
    return _table(rows)


def _tariff(t: dict[str, Any] | None) -> str:
    if not t:
        return "<p>按政府核定的目录电价执行。</p>"
    if t.get("two_part"):
        two = "执行两部制电价（基本电费按变压器容量或最大需量计收，客户选择）"
    elif t.get("two_part_optional"):
        two = "可选择执行两部制电价或单一制电价"
    else:
        two = "执行单一制电价"
    pf = t.get("power_factor_standard")
    comp = t.get("reactive_compensation")
    rows = [
        ("电价类别", _e(t.get("category_name"))),
        ("电价制度", escape(two)),
        ("功率因数考核标准", f"{pf:.2f}" if pf else "不执行功率因数调整电费"),
    ]
    if comp:
        rows.append(
            (
                "无功补偿",
                f"按变压器容量配置 {comp['kvar_min']:g}～{comp['kvar_max']:g} kvar 无功补偿装置，"
                f"装于{escape(comp['where'])}，自动投切",
            )
        )
    return _table(rows)


def _steps(scheme: dict[str, Any], option: dict[str, Any] | None) -> str:
    limit = (option or {}).get("time_limit_workdays", scheme["time_limit_workdays"])
    due = (option or {}).get("due_date", scheme["due_date"])
    outage = _label(OUTAGE, (option or {}).get("outage_plan", scheme["outage_plan"]))
    text = (
        f"<p>办电环节：{'、'.join(STEP[s] for s in scheme['steps'])}；"
        f"查验：{'、'.join(INSPECTION[s] for s in scheme['inspections']) or '无'}；"
        f"停（送）电安排：{_e(outage)}。"
        f"供电公司承担环节合计不超过 {limit} 个工作日，不晚于 {escape(due)} 完成"
        "（客户自建工程时间不计入）。</p>"
    )
    return text + _schedule_table((option or {}).get("schedule") or scheme.get("schedule"))


def _fees(scheme: dict[str, Any], option: dict[str, Any] | None) -> str:
    rows: list[tuple[str, str]] = [("办电服务费", "不收取任何办电服务费")]
    for fee in (option or {}).get("fees", []):
        if fee.get("code") != "high_reliability_fee":
            continue
        circuits = "；".join(
            f"{'备用' if c.get('role') == 'backup' else '主供'}回路 {c['kva']:g} kVA × "
            f"{c['rate_cny_per_kva']:g} 元/kVA"
            for c in fee.get("circuits", [])
        )
        rows.append(
            (
                "高可靠性供电费",
                f"{_money(fee['amount_cny'])}（{escape(circuits)}；除容量最大的一路外按容量收取，"
                "政府核定标准，向供电公司一次性缴纳）",
            )
        )
    cost = (option or {}).get("cost_cny") or {}
    if cost.get("customer"):
        rows.append(
            (
                "客户出资工程（估算）",
                f"{_money(cost['customer'])}：客户出资建设产权分界点至客户受电装置之间的外部工程"
                "（线路、设备），由客户自主选择有资质的单位施工，费用不交供电公司",
            )
        )
    if cost.get("government"):
        rows.append(
            ("政府承担", f"{_money(cost['government'])}（红线外接入工程，豫政办〔2021〕66号）")
        )
    temp = scheme.get("temporary")
    if temp:
        rows.append(
            ("临时用电期限", f"{temp['use_period_months']} 个月；{escape(temp['extension'])}")
        )
        for lease in temp.get("transformer_lease", []):
            rows.append(
                (
                    f"变压器租赁 {lease['transformer_kva']:g} kVA",
                    f"月租 {_money(lease['monthly_rent_cny'])}，"
                    f"押金 {_money(lease['deposit_cny'])}，"
                    f"安装 {_money(lease['installation_cny'])}（参考价，可选，亦可自购）",
                )
            )
    return _table(rows)


def _materials(scheme: dict[str, Any]) -> str:
    text = "、".join(MATERIAL.get(m, m) for m in scheme["materials"])
    if scheme.get("deferred_materials"):
        text += "；容缺后补：" + "、".join(MATERIAL.get(m, m) for m in scheme["deferred_materials"])
    return escape(text)


def _plan(plan: dict[str, Any] | None) -> str:
    if not plan:
        return ""
    items = "".join(
        f"<li>{escape(MEASURE_EXTRA.get(m['kind'], MEASURE.get(m['kind'], m['kind'])))}"
        f"{'：' + str(m.get('capacity_kva')) + ' kVA' if m.get('capacity_kva') else ''}</li>"
        for m in plan["measures"]
    )
    projects = [
        [
            f"{escape(PROJECT.get(p['kind'], p['kind']))}（{_e(p.get('description'))}）",
            f"{p['duration_workdays']} 个工作日",
        ]
        for p in plan["upgrade_projects"]
    ]
    rest = (
        ""
        if plan.get("closes_gap", True)
        else "<p>配套项目完成后仍不能满足全部需求，需进一步规划解决。</p>"
    )
    return (
        f"<p>近期可先接入 {plan['interim_capacity_kva']:,.0f} kVA；近期接电日期："
        f"{_e(plan.get('interim_connection_date'))}；满足全部需求日期："
        f"{_e(plan.get('full_demand_date'))}。</p><ul>{items}</ul>"
        + (_grid(["配套电网工程", "工期"], projects) if projects else "")
        + rest
    )


def _other(scheme: dict[str, Any]) -> str:
    items = [*scheme.get("notes", []), *scheme.get("warnings", [])]
    if not items:
        return ""
    return "<h2>其他事项</h2><ul>" + "".join(f"<li>{escape(n)}</li>" for n in items) + "</ul>"


def _notice(scheme: dict[str, Any], option: dict[str, Any] | None, app_id: str | None) -> str:
    """The LV 供电方案告知书: what the customer needs, pushed; no reply, no signature."""
    parts = ["<h1>供电方案告知书</h1>"]
    rows = _customer_rows(scheme, app_id)
    volt = scheme["supply_voltage_kv"]
    rows.append(("供电方式", f"{_volt(volt)}{'单相' if scheme['phases'] == 1 else '三相'}供电"))
    m = scheme.get("metering") or {}
    rows.append(("电表位置", _e(_label(DEMARCATION, scheme.get("demarcation_point")))))
    if m:
        meter = m.get("meter") or {}
        rows.append(
            (
                "电能表",
                f"{_e(_label(WIRING, meter.get('wiring')))}智能电能表"
                + ("（经电流互感器接入）" if m.get("ct") else "")
                + "，由供电公司免费安装",
            )
        )
    parts.append(_table(rows))
    builds: list[str] = []
    mine = ["电能表以后的户内线路和用电设备由您自行建设、维护。"]
    cost = (option or {}).get("cost_cny") or {}
    utility_builds_line = scheme["investment_boundary"] in ("red_line", "meter_box")
    for s in (option or {}).get("sources", []):
        point = (
            f"{_e(s['connection_point_name'])}（{_e(_label(KIND, s['connection_point_kind']))}）"
        )
        length = s.get("length_m")
        line = (f"约 {length:,.0f} m " if isinstance(length, int | float) else "") + _e(
            _label(LINE, s.get("line_type"), "线路")
        )
        if utility_builds_line:
            builds.append(
                f"从{point}敷设{line}至{_e(_label(DEMARCATION, scheme.get('demarcation_point')))}"
            )
        else:
            builds.append(f"在{point}为您提供接入位置并完成接电")
            mine.append(
                f"从{point}至您的用电地址的{line}由您出资建设"
                + (f"（估算 {_money(cost.get('customer'))}）" if cost.get("customer") else "")
                + "，可自主选择有资质的施工单位，费用不交供电公司。"
            )
    boundary = BOUNDARY.get(scheme["investment_boundary"], "")
    parts.append(
        "<h2>供电公司为您做什么</h2><ul>"
        + "".join(f"<li>{b}</li>" for b in builds)
        + f"<li>{escape(boundary)}；电能表及计量装置由供电公司免费安装。</li></ul>"
    )
    parts.append("<h2>您需要做什么</h2><ul>" + "".join(f"<li>{x}</li>" for x in mine) + "</ul>")
    plan = _plan(scheme.get("transition_plan"))
    if plan:
        parts.append("<h2>过渡方案（先接入、后改造）</h2>" + plan)
    parts.append("<h2>办电环节及完成时间</h2>" + _steps(scheme, option))
    parts.append(
        "<h2>费用</h2><p>不收取任何办电服务费"
        + (
            "；电费按" + _e((scheme.get("tariff") or {}).get("category_name")) + "价格执行"
            if scheme.get("tariff")
            else ""
        )
        + "。</p>"
    )
    parts.append(_other(scheme))
    parts.append("<p>本告知由供电公司通过线上渠道推送，无需签收。如有疑问请致电 95598。</p>")
    return "".join(parts)


def _annex(scheme: dict[str, Any]) -> str:
    """The planner's annex: the internal figures the customer's document leaves out."""
    rows = [
        ("电网", f"{_e(scheme['network']['id'])}（版本 {_e(scheme['network']['version'])}）"),
        ("规则版本", _e(scheme.get("rules_version"))),
        ("候选接入点", _e(scheme.get("candidates_considered"))),
    ]
    out = ["<h2>附：内部测算（供规划、营销人员使用，不向客户提供）</h2>", _table(rows)]
    grid = []
    for o in scheme.get("options", []):
        cost = o.get("cost_cny") or {}
        for s in o["sources"]:
            grid.append(
                [
                    escape(o["option_id"]),
                    _e(s["connection_point_id"]),
                    _kva(s.get("openable_kva_before")),
                    _kva(s.get("openable_kva_after")),
                    f"{s.get('voltage_drop_percent', 0):.2f}%",
                    _money(cost.get("utility")),
                    _money(cost.get("total")),
                ]
            )
    if grid:
        out.append(
            _grid(
                [
                    "方案",
                    "接入点",
                    "接入前可开放容量",
                    "接入后可开放容量",
                    "电压降",
                    "供电公司投资",
                    "总投资",
                ],
                grid,
            )
        )
    return '<section class="annex">' + "".join(out) + "</section>"


def _reliability_text(rel: dict[str, Any] | None) -> str:
    if not rel:
        return ""
    verdict = "满足" if rel["meets_target"] else "未满足"
    return (
        f"<p>供电可靠性：预计年均停电 {rel['outage_hours_per_year']:.2f} 小时，"
        f"本区域目标 {rel['target_hours']:g} 小时以内（{verdict}）。</p>"
    )


def _kva(value: Any) -> str:
    return f"{value:,.0f} kVA" if isinstance(value, int | float) else "—"


def _source_row(s: dict[str, Any]) -> str:
    c = s.get("conductor") or {}
    circuits = s.get("circuits", 1)
    conductor = f"{_e(c.get('type'))}" + (f" × {circuits} 回" if circuits and circuits > 1 else "")
    route = s.get("route") or {}
    length = s.get("length_m")
    path = (
        f"{length:,.0f} m，{escape(ROUTE.get(route.get('method', ''), '—'))}"
        + ("，跨越" + "、".join(route.get("crossings", [])) if route.get("crossings") else "")
        if isinstance(length, int | float)
        else "—"
    )
    return (
        f"<tr><td>{'主供' if s['role'] == 'main' else '备用'}</td>"
        f"<td>{_e(s['connection_point_name'])}（{_e(KIND.get(s['connection_point_kind']))}）</td>"
        f"<td>{_e(s.get('feeder_name') or s.get('substation_name') or s['feeder_id'])}</td>"
        f"<td>{conductor}</td><td>{path}</td>"
        f"<td>{_kva(s.get('carries_kva'))}</td></tr>"
    )


def _schedule_table(schedule: dict[str, Any] | None) -> str:
    if not schedule:
        return ""
    rows = "".join(
        f"<tr><td>{escape(STEP.get(st['step'], '配套电网工程'))}</td>"
        f"<td>{escape(PARTY.get(st['party'], st['party']))}</td>"
        f"<td>{_e(st.get('due_date') or '客户自行安排')}</td></tr>"
        for st in schedule["steps"]
    )
    late = (
        ""
        if schedule.get("within_time_limit", True)
        else "<p>注：配套工程工期超出办电时限，完成日期按工程实际工期确定。</p>"
    )
    return f"<table><tr><th>环节</th><th>责任方</th><th>完成时限</th></tr>{rows}</table>{late}"


def _emergency(es: dict[str, Any] | None) -> str:
    if not es:
        return ""
    kinds = "、".join(EMERGENCY.get(k, k) for k in es.get("kinds", []))
    measures = "、".join(NON_ELECTRIC.get(k, k) for k in es.get("non_electric_measures", []))
    basis = "（按负荷等级估算，请客户核实保安负荷）" if es.get("estimated") else ""
    return (
        "<h2>自备应急电源及非电性质保安措施</h2>"
        f"<p>保安负荷 {es['security_load_kva']:,.0f} kVA{basis}；自备应急电源容量不小于 "
        f"{es['min_kva']:,.0f} kVA（保安负荷的 {es['min_ratio'] * 100:.0f}%），可选{kinds}。"
        f"非电性质保安措施：{measures}。</p>"
    )
