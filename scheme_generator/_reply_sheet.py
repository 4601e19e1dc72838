"""The printable scheme reply sheet (供电方案答复单), in Chinese, from the scheme JSON."""

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


def _e(value: Any) -> str:
    return escape(str(value)) if value is not None else "—"


def render_reply_sheet(scheme: dict[str, Any], option_id: str | None = None) -> str:
    """A self-contained, printable HTML page (no external scripts, fonts or images)."""
    cust = scheme["customer"]
    opt_id = option_id or scheme["recommended_option_id"]
    options = [o for o in scheme["options"] if o["option_id"] == opt_id] or scheme["options"]
    rows: list[str] = []

    def row(label: str, value: str) -> None:
        rows.append(f"<tr><th>{escape(label)}</th><td>{value}</td></tr>")

    row("客户名称", _e(cust["name"]))
    row("申请容量", f"{cust['capacity_kva']:g} kVA")
    if scheme.get("demand_kva") is not None:
        row("计算负荷（最大需量）", f"{scheme['demand_kva']:g} kVA")
    row("受理日期", _e(cust["application_date"]))
    row(
        "客户类别",
        _e(CLASS.get(scheme["classification"]["customer_class"]))
        + ("（小微企业）" if scheme["classification"]["small_micro"] else ""),
    )
    volt = scheme["supply_voltage_kv"]
    volt_text = f"{volt * 1000:g} V" if volt < 1 else f"{volt:g} kV"
    row("供电电压", f"{volt_text}，{scheme['phases']}相")
    row(
        "电源数量",
        f"{scheme['sources_required']} 路" + ("（专线接入）" if scheme["dedicated_line"] else ""),
    )
    row("投资界面", _e(BOUNDARY.get(scheme["investment_boundary"])))
    row("产权分界点", _e(DEMARCATION.get(scheme["demarcation_point"])))
    row("计量点", "产权分界点处（计费计量装置由供电公司投资）")
    row("外部工程出资", _e(PAYER.get(scheme["external_works_payer"])))
    row("办电环节", "、".join(STEP[s] for s in scheme["steps"]))
    row("查验环节", "、".join(INSPECTION[s] for s in scheme["inspections"]) or "无")
    row("停（送）电安排", _e(OUTAGE.get(scheme["outage_plan"])))
    row(
        "申请资料",
        "、".join(MATERIAL.get(m, m) for m in scheme["materials"])
        + (
            "；容缺后补：" + "、".join(MATERIAL.get(m, m) for m in scheme["deferred_materials"])
            if scheme.get("deferred_materials")
            else ""
        ),
    )
    row("收费", "仅收取政府核定的高可靠性供电费" if scheme["fees"] else "不收取任何办电服务费")
    row("方案有效期", f"{scheme['validity_months']} 个月")

    option_html = []
    for o in options:
        src_rows = "".join(_source_row(s) for s in o["sources"])
        cost = o["cost_cny"]
        option_html.append(
            f"<h3>方案 {escape(o['option_id'])}</h3>"
            "<table><tr><th>电源</th><th>接入点</th><th>线路</th><th>导线</th>"
            f"<th>路径</th><th>供电容量</th></tr>{src_rows}</table>"
            f"<p>费用：供电公司 {cost['utility']:,.0f} 元；客户 {cost['customer']:,.0f} 元；"
            f"政府 {cost['government']:,.0f} 元；合计 {cost['total']:,.0f} 元。"
            f"{'需配套电网工程。' if o['supporting_project'] else ''}</p>"
            f"<p>办电时限：{o['time_limit_workdays']} 个工作日，完成日期不晚于 "
            f"{escape(o['due_date'])}。</p>"
            + _schedule_table(o.get("schedule"))
            + _reliability_text(o.get("reliability"))
        )
    plan_html = ""
    plan = scheme.get("transition_plan")
    if plan:
        items = "".join(
            f"<li>{escape(MEASURE_EXTRA.get(m['kind'], MEASURE.get(m['kind'], m['kind'])))}"
            f"{'：' + str(m.get('capacity_kva')) + ' kVA' if m.get('capacity_kva') else ''}"
            "</li>"
            for m in plan["measures"]
        )
        projects = "".join(
            f"<tr><td>{escape(PROJECT.get(p['kind'], p['kind']))}"
            f"（{_e(p.get('description'))}）</td>"
            f"<td>{p['duration_workdays']} 个工作日</td>"
            f"<td>{_kva(p.get('capacity_after_kva'))}</td>"
            f"<td>{escape(FUNDING.get(p['funding_channel'], p['funding_channel']))}</td></tr>"
            for p in plan["upgrade_projects"]
        )
        dates = (
            f"近期接电日期：{_e(plan.get('interim_connection_date'))}；"
            f"满足全部需量日期：{_e(plan.get('full_demand_date'))}。"
        )
        rest = (
            ""
            if plan.get("closes_gap", True)
            else f"<p>配套项目完成后仍不足 {plan.get('remaining_kva', 0):,.0f} kVA，"
            "需进一步规划解决。</p>"
        )
        plan_html = (
            "<h2>过渡方案（先接入、后改造）</h2>"
            f"<p>近期可供容量：{plan['interim_capacity_kva']:,.0f} kVA（每路电源均可单独承担）。"
            f"{dates}</p><ul>{items}</ul>"
            "<table><tr><th>配套改造项目</th><th>工期</th><th>完成后可开放容量</th>"
            f"<th>资金渠道</th></tr>{projects}</table>{rest}"
            f"<p>受限客户清单报送期限：{escape(plan['restricted_report_due'])}。</p>"
        )
    emergency_html = _emergency(scheme.get("emergency_source"))
    notes = "".join(
        f"<li>{escape(n)}</li>" for n in scheme.get("notes", []) + scheme.get("warnings", [])
    )
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>供电方案答复单</title>
<style>
body {{ font-family: "Noto Sans CJK SC", "Source Han Sans SC", "SimSun", sans-serif;
       margin: 2em auto; max-width: 52em; color: #111; }}
h1 {{ text-align: center; letter-spacing: .3em; }}
table {{ border-collapse: collapse; width: 100%; margin: .6em 0; }}
th, td {{ border: 1px solid #444; padding: .35em .5em; text-align: left; vertical-align: top; }}
th {{ background: #f1f1f1; width: 9em; }}
.foot {{ margin-top: 2em; display: flex; justify-content: space-between; }}
@media print {{ body {{ margin: 0; }} }}
</style></head><body>
<h1>供电方案答复单</h1>
<p>电网：{_e(scheme["network"]["id"])}（版本 {_e(scheme["network"]["version"])}），
规则版本 {_e(scheme["rules_version"])}</p>
<table>{"".join(rows)}</table>
<h2>接入方案</h2>{"".join(option_html)}
{emergency_html}
{plan_html}
{"<h2>说明</h2><ul>" + notes + "</ul>" if notes else ""}
<div class="foot"><span>供电单位（盖章）：</span><span>客户签收：</span></div>
</body></html>
"""


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
