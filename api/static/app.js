/* 用电报装 · 在线供电方案比选 — the customer's page.
 *
 * Plain script, no build step, nothing loaded from outside this service: the map is
 * drawn in SVG from the service's own GeoJSON with a simple equirectangular projection
 * fitted to the data.  Hooks for browser tests: window.gridcapProject(lon, lat) gives
 * the viewport position (clientX, clientY) of a place; #map[data-ready="true"] once the
 * connection points are drawn; #result[data-status] after choosing an option.
 */
(function () {
  "use strict";

  var API = "/api/v1";
  var SVG_NS = "http://www.w3.org/2000/svg";
  var NEARBY_RADIUS_M = 1500;

  // Chinese names for the contract's codes (the same words as the printed reply sheet).
  var STEP = {
    application: "用电申请",
    scheme_reply: "供电方案答复",
    external_works: "客户外部工程实施",
    metering_connection: "装表接电",
  };
  var MATERIAL = {
    identity_proof: "身份证明",
    subject_proof: "主体证明（营业执照等）",
    property_proof: "产权证明",
    government_approval: "政府批复文件",
    address_list: "报装地址列表",
    authorisation_letter: "授权委托书",
    agent_identity_proof: "经办人身份证明",
    voluntary_hv_proof: "自愿高压接入证明",
  };
  var CLASS = {
    lv_resident: "低压居民客户",
    lv_non_resident: "低压非居民客户",
    lv_small_micro: "低压小微企业客户",
    hv_ordinary: "高压普通客户",
    hv_important: "高压重要客户",
  };
  var BOUNDARY = {
    red_line: "供电公司投资至您的规划红线",
    connection_point: "供电公司投资至公共电网接入点",
    meter_box: "供电公司投资至表箱（含表箱）",
  };
  var POINT_KIND = {
    substation_bay: "变电站间隔",
    ring_main_unit: "环网柜",
    pole: "杆塔",
    switching_station: "开关站",
    lv_branch_box: "低压分支箱",
  };
  var ROLE = { main: "主供电源", backup: "备用电源" };
  var LINE = { cable: "电缆", overhead: "架空线" };
  // corridor kinds (电力管廊通道) as the map draws them
  var CORRIDOR_GROUP = {
    main_road: "road", road: "road", rural_road: "road", lane: "road",
    cable_duct: "duct", river: "river", railway: "railway",
  };
  var LIGHT = { green: "绿（充足）", yellow: "黄（有限）", red: "红（不足）" };
  var MEASURE = {
    partial_connection: "先行部分接入",
    temporary_source: "临时电源",
    load_transfer: "负荷转供",
    staged: "分期送电",
    upgrade: "电网改造",
  };
  var PROJECT = {
    reconductor: "线路改造（换线）",
    new_feeder: "新出10千伏线路",
    transformer_replacement: "变压器增容更换",
  };
  var FUNDING = {
    annual_investment_plan: "年度投资计划",
    decision_then_plan: "决策后纳入投资计划",
    project_package: "10千伏项目包",
    annual_cost_plan: "年度成本计划",
  };
  var AREA = {
    city_centre: { name: "市中心", fill: "#f7e1c4", stroke: "#e2bd8e" },
    urban: { name: "城区", fill: "#f4ecd6", stroke: "#dccd9f" },
    town: { name: "城镇", fill: "#e9f1dc", stroke: "#c5d6a6" },
    rural: { name: "农村", fill: "#f0f5ea", stroke: "#cfdcc0" },
    provincial_park: { name: "省级园区", fill: "#dce8f7", stroke: "#7f9fcb", dash: "5 3" },
    urban_planning_area: { name: "城市规划区", fill: "none", stroke: "#b39ad1", dash: "2 3" },
  };
  var FIELD_LABEL = {
    customer_name: "申请人名称",
    customer_type: "客户类型",
    business: "业务类型",
    category: "用电类别",
    industry: "行业",
    ownership: "单位性质",
    location: "用电地址",
    capacity_kva: "申请容量",
    phases: "供电相数",
    important_user_level: "重要电力用户",
    application_date: "用电日期",
    land_right_date: "土地使用权取得日期",
    households: "住户数",
    estate_metering: "计量方式",
    requests_hv: "自愿高压接入",
    objective: "方案优先",
  };

  // 可开放容量公开: the four area classes, in the published order.
  var AREA_CLASS = [
    ["city_centre", "市中心区"],
    ["urban", "市区"],
    ["town", "城镇"],
    ["rural", "农村"],
  ];
  var INSPECTION = {
    design_review: "设计文件审查",
    midway_inspection: "中间检查",
    completion_inspection: "竣工检验",
  };
  var FEE = { high_reliability_fee: "高可靠性供电费" };

  var state = {
    publication: null, // GET /capacity/publication
    rules: null, // GET /rules
    areas: [],
    lines: [],
    corridors: [], // roads, ducts, rivers, railways
    routes: [], // the options' new lines: [{option, path, length, method, recommended}]
    substations: [],
    points: [], // [{id, lon, lat, props}]
    pointEls: {}, // id -> <circle>
    site: null, // {lon, lat}
    application: null, // {id, token, capacity_kva}
    scheme: null,
    frame: null, // fitted projection
    view: { k: 1, tx: 0, ty: 0 },
    svg: null,
    layers: {},
  };

  // ------------------------------------------------------------------ helpers

  function $(id) {
    return document.getElementById(id);
  }

  /** Build an element: h("div", {class: "x"}, "text", child, ...). */
  function h(tag, attrs) {
    var el = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        var v = attrs[k];
        if (v === null || v === undefined || v === false) return;
        if (k === "text") el.textContent = v;
        else if (k.slice(0, 2) === "on") el.addEventListener(k.slice(2), v);
        else el.setAttribute(k, v === true ? "" : String(v));
      });
    }
    for (var i = 2; i < arguments.length; i++) append(el, arguments[i]);
    return el;
  }

  function append(el, child) {
    if (child === null || child === undefined || child === false) return;
    if (Array.isArray(child)) child.forEach(function (c) { append(el, c); });
    else el.appendChild(typeof child === "object" ? child : document.createTextNode(String(child)));
  }

  function s(tag, attrs) {
    var el = document.createElementNS(SVG_NS, tag);
    Object.keys(attrs || {}).forEach(function (k) { el.setAttribute(k, attrs[k]); });
    return el;
  }

  function name(table, code) {
    return code === null || code === undefined ? "—" : table[code] || String(code);
  }

  var intFmt = new Intl.NumberFormat("zh-CN", { maximumFractionDigits: 0 });
  var decFmt = new Intl.NumberFormat("zh-CN", { maximumFractionDigits: 2 });

  function kva(v) {
    return v === null || v === undefined ? "—" : intFmt.format(v) + " kVA";
  }

  function money(v) {
    if (v === null || v === undefined) return "—";
    if (Math.abs(v) >= 10000) return decFmt.format(v / 10000) + " 万元";
    return intFmt.format(v) + " 元";
  }

  function metres(v) {
    if (v === null || v === undefined) return "—";
    return v >= 1000 ? decFmt.format(v / 1000) + " 公里" : intFmt.format(v) + " 米";
  }

  function dateZh(iso) {
    var m = /^(\d{4})-(\d{2})-(\d{2})/.exec(iso || "");
    return m ? m[1] + "年" + Number(m[2]) + "月" + Number(m[3]) + "日" : iso || "—";
  }

  function voltage(kv) {
    if (kv === null || kv === undefined) return "—";
    if (kv <= 0.25) return "220 伏（低压单相）";
    if (kv < 1) return "380 伏（低压三相）";
    return decFmt.format(kv) + " 千伏（高压）";
  }

  function today() {
    var d = new Date();
    var p = function (n) { return (n < 10 ? "0" : "") + n; };
    return d.getFullYear() + "-" + p(d.getMonth() + 1) + "-" + p(d.getDate());
  }

  function lightOf(props) {
    var l = props && props.light;
    return l === "green" || l === "yellow" || l === "red" ? l : "unknown";
  }

  function pointKindOf(props) {
    return props.point_kind || (POINT_KIND[props.kind] ? props.kind : null);
  }

  function openableOf(props) {
    if (typeof props.openable_kva === "number") return props.openable_kva;
    return typeof props.c2_kva === "number" ? props.c2_kva : null;
  }

  async function getJson(url) {
    var r = await fetch(url, { headers: { Accept: "application/json" } });
    if (!r.ok) throw new Error("HTTP " + r.status + "：" + url);
    return r.json();
  }

  // --------------------------------------------------------------- projection

  function eachCoord(geom, fn) {
    if (!geom) return;
    var walk = function (c) {
      if (typeof c[0] === "number") fn(c[0], c[1]);
      else c.forEach(walk);
    };
    if (geom.type === "GeometryCollection") geom.geometries.forEach(function (g) { eachCoord(g, fn); });
    else walk(geom.coordinates);
  }

  /** Fit the data bounds into the map box: x = (lon − lon0)·cos φ0, y = lat0 − lat, scaled. */
  function fitFrame() {
    var box = $("map");
    var width = box.clientWidth || 800;
    var height = box.clientHeight || 560;
    var b = [Infinity, Infinity, -Infinity, -Infinity];
    var grow = function (lon, lat) {
      if (!isFinite(lon) || !isFinite(lat)) return;
      if (lon < b[0]) b[0] = lon;
      if (lat < b[1]) b[1] = lat;
      if (lon > b[2]) b[2] = lon;
      if (lat > b[3]) b[3] = lat;
    };
    // Fit the grid itself; the (large) rural area around it may run off the edges.
    state.lines.concat(state.substations).forEach(function (f) { eachCoord(f.geometry, grow); });
    state.points.forEach(function (p) { grow(p.lon, p.lat); });
    if (!isFinite(b[0])) state.areas.forEach(function (f) { eachCoord(f.geometry, grow); });
    if (!isFinite(b[0])) b = [114.2, 36.0, 114.5, 36.2];
    if (b[2] - b[0] < 1e-6) { b[0] -= 0.01; b[2] += 0.01; }
    if (b[3] - b[1] < 1e-6) { b[1] -= 0.01; b[3] += 0.01; }
    var cos = Math.cos(((b[1] + b[3]) / 2) * Math.PI / 180);
    var pad = 16;
    var scale = Math.min(
      (width - 2 * pad) / ((b[2] - b[0]) * cos),
      (height - 2 * pad) / (b[3] - b[1])
    );
    state.frame = {
      width: width,
      height: height,
      lon0: b[0],
      lat0: b[3],
      cos: cos,
      scale: scale,
      ox: (width - (b[2] - b[0]) * cos * scale) / 2,
      oy: (height - (b[3] - b[1]) * scale) / 2,
    };
  }

  /** lon/lat → position inside the SVG (CSS pixels), current pan/zoom included. */
  function project(lon, lat) {
    var f = state.frame;
    var v = state.view;
    var bx = f.ox + (lon - f.lon0) * f.cos * f.scale;
    var by = f.oy + (f.lat0 - lat) * f.scale;
    return [bx * v.k + v.tx, by * v.k + v.ty];
  }

  function unproject(x, y) {
    var f = state.frame;
    var v = state.view;
    var bx = (x - v.tx) / v.k;
    var by = (y - v.ty) / v.k;
    return [f.lon0 + (bx - f.ox) / (f.scale * f.cos), f.lat0 - (by - f.oy) / f.scale];
  }

  function svgOffset() {
    var r = state.svg.getBoundingClientRect();
    return [r.left, r.top];
  }

  // --------------------------------------------------------------------- map

  function buildMap() {
    var box = $("map");
    box.textContent = "";
    var svg = s("svg", { class: "map-svg", role: "img", "aria-label": "电网与可开放容量地图" });
    state.svg = svg;
    ["areas", "corridors", "lines", "routes", "substations", "points", "site"].forEach(function (k) {
      var g = s("g", { class: "layer-" + k });
      state.layers[k] = g;
      svg.appendChild(g);
    });
    box.appendChild(svg);

    // Areas: biggest first so the small ones (parks, the centre) stay visible on top.
    var areaEls = state.areas
      .map(function (f) {
        var bb = [Infinity, Infinity, -Infinity, -Infinity];
        eachCoord(f.geometry, function (x, y) {
          bb = [Math.min(bb[0], x), Math.min(bb[1], y), Math.max(bb[2], x), Math.max(bb[3], y)];
        });
        return { f: f, size: (bb[2] - bb[0]) * (bb[3] - bb[1]) };
      })
      .sort(function (a, b) { return b.size - a.size; });
    areaEls.forEach(function (a) {
      var kind = a.f.properties.area_kind;
      var st = AREA[kind] || { fill: "#eeeeee", stroke: "#cccccc" };
      var path = s("path", {
        class: "area area-" + kind,
        fill: st.fill,
        stroke: st.stroke,
        "fill-rule": "evenodd",
      });
      if (st.dash) path.setAttribute("stroke-dasharray", st.dash);
      var t = s("title", {});
      t.textContent = (a.f.properties.name || "") + (AREA[kind] ? "（" + AREA[kind].name + "）" : "");
      path.appendChild(t);
      path.__feature = a.f;
      state.layers.areas.appendChild(path);
    });

    state.layers.lines.appendChild(s("path", { class: "lines" }));
    // 电力管廊通道: roads and ducts a new line follows, rivers and railways it must cross
    ["road", "duct", "river", "railway"].forEach(function (k) {
      state.layers.corridors.appendChild(s("path", { class: "corridor corridor-" + k }));
    });

    state.substations.forEach(function (f) {
      var g = s("g", { class: "substation" });
      g.appendChild(s("rect", { width: 11, height: 11 }));
      var t = s("title", {});
      t.textContent = (f.properties.name || f.properties.id || "变电站") + "（变电站）";
      g.appendChild(t);
      g.__feature = f;
      state.layers.substations.appendChild(g);
    });

    buildPoints();
    layout();
    installPanZoom(svg);
  }

  function buildPoints() {
    var layer = state.layers.points;
    layer.textContent = "";
    state.pointEls = {};
    state.points.forEach(function (p) {
      var c = s("circle", { class: "cp", "data-id": p.id });
      c.appendChild(s("title", {}));
      state.pointEls[p.id] = c;
      layer.appendChild(c);
      stylePoint(p);
    });
  }

  function stylePoint(p) {
    var c = state.pointEls[p.id];
    if (!c) return;
    var light = lightOf(p.props);
    var kind = pointKindOf(p.props);
    c.setAttribute("class", "cp light-" + light + (kind ? " kind-" + kind : ""));
    c.setAttribute("data-light", light);
    c.setAttribute("data-kind", kind || "");
    c.setAttribute("data-openable-kva", openableOf(p.props) === null ? "" : openableOf(p.props));
    c.firstChild.textContent =
      (p.props.name || p.id) +
      (kind ? "（" + name(POINT_KIND, kind) + "）" : "") +
      "\n可开放容量：" + kva(openableOf(p.props)) + "  " + name(LIGHT, light);
  }

  function layout() {
    var f = state.frame;
    state.svg.setAttribute("width", f.width);
    state.svg.setAttribute("height", f.height);
    state.svg.setAttribute("viewBox", "0 0 " + f.width + " " + f.height);
    draw();
  }

  function pathOf(geom, close) {
    var parts = [];
    var ring = function (coords) {
      var d = "";
      for (var i = 0; i < coords.length; i++) {
        var xy = project(coords[i][0], coords[i][1]);
        d += (i ? "L" : "M") + xy[0].toFixed(1) + " " + xy[1].toFixed(1);
      }
      parts.push(d + (close ? "Z" : ""));
    };
    if (!geom) return "";
    if (geom.type === "LineString") ring(geom.coordinates);
    else if (geom.type === "MultiLineString" || geom.type === "Polygon") geom.coordinates.forEach(ring);
    else if (geom.type === "MultiPolygon") geom.coordinates.forEach(function (p) { p.forEach(ring); });
    return parts.join("");
  }

  var drawPending = false;
  function scheduleDraw() {
    if (drawPending) return;
    drawPending = true;
    requestAnimationFrame(function () {
      drawPending = false;
      draw();
    });
  }

  function draw() {
    if (!state.frame) return;
    var k = state.view.k;
    Array.prototype.forEach.call(state.layers.areas.childNodes, function (el) {
      el.setAttribute("d", pathOf(el.__feature.geometry, true));
    });
    var d = "";
    if ($("show-lines").checked) {
      state.lines.forEach(function (f) { d += pathOf(f.geometry, false); });
    }
    state.layers.lines.firstChild.setAttribute("d", d);
    drawCorridors();
    drawRoutes();
    var half = 5.5;
    Array.prototype.forEach.call(state.layers.substations.childNodes, function (g) {
      var c = g.__feature.geometry.coordinates;
      var xy = project(c[0], c[1]);
      g.firstChild.setAttribute("x", (xy[0] - half).toFixed(1));
      g.firstChild.setAttribute("y", (xy[1] - half).toFixed(1));
    });
    var r = Math.min(2.6 + Math.log2(Math.max(k, 1)) * 0.9, 7).toFixed(2);
    state.points.forEach(function (p) {
      var c = state.pointEls[p.id];
      var xy = project(p.lon, p.lat);
      c.setAttribute("cx", xy[0].toFixed(1));
      c.setAttribute("cy", xy[1].toFixed(1));
      c.setAttribute("r", r);
    });
    drawSite();
  }

  function drawCorridors() {
    var paths = { road: "", duct: "", river: "", railway: "" };
    if ($("show-lines").checked) {
      state.corridors.forEach(function (f) {
        var k = CORRIDOR_GROUP[f.properties.kind] || "road";
        paths[k] += pathOf(f.geometry, false);
      });
    }
    Array.prototype.forEach.call(state.layers.corridors.childNodes, function (el, i) {
      el.setAttribute("d", paths[["road", "duct", "river", "railway"][i]]);
    });
  }

  /** The new line of every option, along its route (recommended option drawn last). */
  function drawRoutes() {
    var layer = state.layers.routes;
    if (!layer) return;
    layer.textContent = "";
    state.routes.forEach(function (r) {
      var el = s("path", {
        class: "route" + (r.recommended ? " route-recommended" : ""),
        d: pathOf({ type: "LineString", coordinates: r.path }, false),
        "data-option-id": r.option,
      });
      var t = s("title", {});
      t.textContent = "方案 " + r.option + " 新建线路：" + metres(r.length) +
        (r.method === "corridor" ? "（沿道路及通道）" : "（直线估算，待勘测）");
      el.appendChild(t);
      layer.appendChild(el);
    });
  }

  function setRoutes(scheme) {
    var routes = [];
    (scheme.options || []).forEach(function (o) {
      (o.sources || []).forEach(function (src) {
        var r = src.route || {};
        if (Array.isArray(r.path) && r.path.length > 1) {
          routes.push({
            option: o.option_id, path: r.path, length: r.length_m, method: r.method,
            recommended: o.option_id === scheme.recommended_option_id,
          });
        }
      });
    });
    routes.sort(function (a, b) { return a.recommended - b.recommended; });
    state.routes = routes;
    scheduleDraw();
  }

  function drawSite() {
    var layer = state.layers.site;
    if (!layer || !state.frame) return;
    layer.textContent = "";
    if (!state.site) return;
    var xy = project(state.site.lon, state.site.lat);
    var g = s("g", { class: "site", transform: "translate(" + xy[0].toFixed(1) + " " + xy[1].toFixed(1) + ")" });
    g.appendChild(s("path", { d: "M0 0 C-3 -8 -10 -12 -10 -19 A10 10 0 1 1 10 -19 C10 -12 3 -8 0 0Z" }));
    g.appendChild(s("circle", { cx: 0, cy: -19, r: 3.6, class: "site-hole" }));
    var t = s("title", {});
    t.textContent = "您的用电地址";
    g.appendChild(t);
    layer.appendChild(g);
  }

  function zoomAt(x, y, factor) {
    var v = state.view;
    var k = Math.max(0.5, Math.min(v.k * factor, 200));
    factor = k / v.k;
    v.tx = x - (x - v.tx) * factor;
    v.ty = y - (y - v.ty) * factor;
    v.k = k;
    scheduleDraw();
  }

  function installPanZoom(svg) {
    var drag = null;
    svg.addEventListener(
      "wheel",
      function (ev) {
        ev.preventDefault();
        var o = svgOffset();
        zoomAt(ev.clientX - o[0], ev.clientY - o[1], Math.pow(1.0015, -ev.deltaY));
      },
      { passive: false }
    );
    svg.addEventListener("pointerdown", function (ev) {
      if (ev.button !== 0) return;
      drag = { x: ev.clientX, y: ev.clientY, tx: state.view.tx, ty: state.view.ty, moved: false, id: ev.pointerId };
    });
    svg.addEventListener("pointermove", function (ev) {
      if (!drag || ev.pointerId !== drag.id) return;
      var dx = ev.clientX - drag.x;
      var dy = ev.clientY - drag.y;
      if (!drag.moved && Math.abs(dx) + Math.abs(dy) > 5) {
        drag.moved = true;
        svg.classList.add("panning");
        try { svg.setPointerCapture(ev.pointerId); } catch (e) { /* not captured: fine */ }
      }
      if (drag.moved) {
        state.view.tx = drag.tx + dx;
        state.view.ty = drag.ty + dy;
        scheduleDraw();
      }
    });
    var end = function (ev) {
      if (!drag || ev.pointerId !== drag.id) return;
      var wasClick = !drag.moved && ev.type === "pointerup";
      drag = null;
      svg.classList.remove("panning");
      if (wasClick) {
        var o = svgOffset();
        var ll = unproject(ev.clientX - o[0], ev.clientY - o[1]);
        setSite(ll[0], ll[1], true);
      }
    };
    svg.addEventListener("pointerup", end);
    svg.addEventListener("pointercancel", end);

    $("zoom-in").addEventListener("click", function () { zoomAt(state.frame.width / 2, state.frame.height / 2, 1.6); });
    $("zoom-out").addEventListener("click", function () { zoomAt(state.frame.width / 2, state.frame.height / 2, 1 / 1.6); });
    $("zoom-reset").addEventListener("click", function () {
      state.view = { k: 1, tx: 0, ty: 0 };
      scheduleDraw();
    });
    $("show-lines").addEventListener("change", scheduleDraw);
    var resizeTimer = null;
    window.addEventListener("resize", function () {
      clearTimeout(resizeTimer);
      resizeTimer = setTimeout(function () {
        fitFrame();
        state.view = { k: 1, tx: 0, ty: 0 };
        layout();
      }, 150);
    });
  }

  function buildAreaLegend() {
    var seen = {};
    state.areas.forEach(function (f) { seen[f.properties.area_kind] = true; });
    var box = $("area-legend");
    box.textContent = "";
    Object.keys(AREA).forEach(function (k) {
      if (!seen[k]) return;
      var sw = h("i", { class: "area-swatch" });
      sw.style.background = AREA[k].fill === "none" ? "transparent" : AREA[k].fill;
      sw.style.borderColor = AREA[k].stroke;
      if (AREA[k].dash) sw.style.borderStyle = "dashed";
      box.appendChild(h("span", { class: "key" }, sw, AREA[k].name));
    });
  }

  // ---------------------------------------------------------------- the data

  function setPoints(fc) {
    state.points = (fc.features || [])
      .filter(function (f) { return f.geometry && f.geometry.type === "Point"; })
      .map(function (f) {
        var c = f.geometry.coordinates;
        return { id: String(f.properties.id), lon: c[0], lat: c[1], props: f.properties };
      });
  }

  async function loadMap() {
    var status = $("map-status");
    try {
      var both = await Promise.all([
        getJson(API + "/network.geojson"),
        getJson(API + "/capacity?level=connection_point&format=geojson"),
      ]);
      var net = both[0].features || [];
      state.areas = net.filter(function (f) { return f.properties.kind === "area" && f.geometry; });
      state.lines = net.filter(function (f) { return f.properties.kind === "line" && f.geometry; });
      state.corridors = net.filter(function (f) {
        return f.properties.layer === "corridor" && CORRIDOR_GROUP[f.properties.kind] && f.geometry;
      });
      state.substations = net.filter(function (f) {
        return f.properties.kind === "substation" && f.geometry && f.geometry.type === "Point";
      });
      setPoints(both[1]);
      fitFrame();
      buildMap();
      buildAreaLegend();
      renderPublication(); // now with the substations' names
      $("map").setAttribute("data-ready", "true");
      var counts = { green: 0, yellow: 0, red: 0 };
      state.points.forEach(function (p) { counts[lightOf(p.props)] = (counts[lightOf(p.props)] || 0) + 1; });
      status.textContent =
        "共 " + state.points.length + " 个接入点：绿 " + counts.green + "，黄 " + counts.yellow +
        "，红 " + counts.red + "。请点击地图选择您的用电地址。";
      status.className = "status ok";
    } catch (err) {
      status.textContent = "电网地图加载失败，请刷新页面重试。（" + err.message + "）";
      status.className = "status error";
    }
  }

  /** Re-read the capacity lights (after a reservation) and recolour the dots. */
  async function refreshCapacity() {
    var publication = loadPublication();
    try {
      var fc = await getJson(API + "/capacity?level=connection_point&format=geojson");
      var before = Object.keys(state.pointEls).length;
      setPoints(fc);
      var same = before === state.points.length && state.points.every(function (p) { return state.pointEls[p.id]; });
      if (same) state.points.forEach(stylePoint);
      else buildPoints();
      draw();
      $("map").setAttribute("data-refreshed", String(Date.now()));
    } catch (err) {
      $("map-status").textContent = "可开放容量刷新失败：" + err.message;
    }
    if (state.site) loadNearby();
    await publication;
  }

  // -------------------------------------------------------------------- site

  function setSite(lon, lat, fromMap) {
    if (!isFinite(lon) || !isFinite(lat)) return;
    state.site = { lon: lon, lat: lat };
    if (fromMap) {
      $("lon").value = lon.toFixed(6);
      $("lat").value = lat.toFixed(6);
    }
    clearError("location");
    drawSite();
    loadNearby();
  }

  var inputTimer = null;
  function siteFromInputs() {
    clearTimeout(inputTimer);
    inputTimer = setTimeout(siteFromInputsNow, 250);
  }

  function siteFromInputsNow() {
    var lon = parseFloat($("lon").value);
    var lat = parseFloat($("lat").value);
    if (isFinite(lon) && isFinite(lat)) setSite(lon, lat, false);
  }

  var nearbySeq = 0;
  async function loadNearby() {
    var seq = ++nearbySeq;
    var site = state.site;
    var box = $("nearby");
    var list = $("nearby-list");
    try {
      var url = API + "/capacity/nearby?lon=" + site.lon + "&lat=" + site.lat + "&radius_m=" + NEARBY_RADIUS_M;
      var body = await getJson(url);
      if (seq !== nearbySeq) return;
      var pts = (body.points || []).slice().sort(function (a, b) { return a.distance_m - b.distance_m; });
      list.textContent = "";
      if (!pts.length) {
        list.appendChild(h("li", { class: "muted" }, "附近 " + metres(NEARBY_RADIUS_M) + " 内没有接入点，系统会为您寻找更远的电源。"));
      }
      pts.slice(0, 6).forEach(function (p) {
        list.appendChild(
          h("li", { "data-id": p.id },
            h("i", { class: "dot " + (p.light || "") }),
            h("span", { class: "nb-name" }, p.name || p.id),
            h("span", { class: "muted" }, " " + name(POINT_KIND, p.kind) + " · 距离 " + metres(p.distance_m) +
              " · 可开放 " + kva(p.openable_kva)))
        );
      });
      box.hidden = false;
    } catch (err) {
      if (seq === nearbySeq) box.hidden = true;
    }
  }

  // -------------------------------------------------------------------- form

  function clearErrors() {
    document.querySelectorAll(".field-error").forEach(function (el) { el.textContent = ""; });
    document.querySelectorAll("[aria-invalid]").forEach(function (el) { el.removeAttribute("aria-invalid"); });
    document.querySelectorAll(".field.has-error").forEach(function (el) { el.classList.remove("has-error"); });
    var fe = $("form-errors");
    fe.textContent = "";
    fe.hidden = true;
  }

  function clearError(field) {
    var el = document.querySelector('[data-error-for="' + field + '"]');
    if (el) el.textContent = "";
    var f = document.querySelector('.field[data-field="' + field + '"]');
    if (f) f.classList.remove("has-error");
  }

  function showFieldError(field, msg) {
    var slot = document.querySelector('[data-error-for="' + field + '"]');
    if (!slot) {
      var fe = $("form-errors");
      fe.hidden = false;
      fe.appendChild(h("div", {}, (FIELD_LABEL[field] || field || "申请") + "：" + msg));
      return;
    }
    slot.textContent = slot.textContent ? slot.textContent + "；" + msg : msg;
    var f = slot.closest(".field");
    if (f) {
      f.classList.add("has-error");
      f.querySelectorAll("input, select").forEach(function (i) { i.setAttribute("aria-invalid", "true"); });
    }
  }

  // The service's validation messages may be in English; say the common ones in Chinese.
  var MESSAGE_ZH = [
    [/^field required$/i, "必填"],
    [/greater than 0|above 0/i, "必须大于 0"],
    [/greater than or equal to (\S+)/i, "不能小于 $1"],
    [/less than or equal to (\S+)/i, "不能大于 $1"],
    [/valid (number|integer|float)|unable to parse string as a number/i, "请输入数字"],
    [/valid date|date format|invalid date/i, "请填写正确的日期（年-月-日）"],
    [/^input should be '|^value is not a valid enumeration|permitted/i, "请从列表中选择"],
    [/not in this network's supply area|km from the nearest connection point/i, "该地址不在本供电区域内，请在地图上的电网范围内选择"],
  ];

  function messageZh(msg) {
    msg = String(msg || "");
    if (!msg) return "填写有误";
    if (/[\u4e00-\u9fff]/.test(msg)) return msg;
    for (var i = 0; i < MESSAGE_ZH.length; i++) {
      var m = MESSAGE_ZH[i][0].exec(msg);
      if (m) {
        var zh = MESSAGE_ZH[i][1].replace(/\$(\d)/g, function (_, n) { return m[n] || ""; });
        return zh + "（" + msg + "）";
      }
    }
    return msg;
  }

  /** Which form field a 422 item is about: its `field`, else the body path in `loc`. */
  function fieldOf(item) {
    var f = item.field;
    if (!f && Array.isArray(item.loc)) {
      var loc = item.loc.filter(function (x) { return x !== "body"; });
      f = loc.length ? String(loc[0]) : null;
    }
    if (!f) return null;
    f = String(f);
    if (f === "lon" || f === "lat" || f.indexOf("location") === 0) return "location";
    return f.split(".")[0];
  }

  function readForm() {
    var num = function (id) {
      var v = $(id).value.trim();
      return v === "" ? null : Number(v);
    };
    var lon = num("lon");
    var lat = num("lat");
    var objective = document.querySelector('input[name="objective"]:checked');
    var body = {
      customer_name: $("customer_name").value.trim(),
      customer_type: $("customer_type").value,
      business: $("business").value,
      category: $("category").value,
      industry: $("industry").value,
      ownership: $("ownership").value,
      location: lon === null || lat === null ? null : { lon: lon, lat: lat },
      capacity_kva: num("capacity_kva"),
      phases: Number($("phases").value),
      important_user_level: $("important_user_level").value || null,
      application_date: $("application_date").value || today(),
      objective: objective ? objective.value : "cheapest",
    };
    if (body.category === "residential_estate") {
      body.households = num("households");
      body.estate_metering = $("estate_metering").value;
    }
    if ($("land_right_date").value) body.land_right_date = $("land_right_date").value;
    if ($("requests_hv").checked) body.requests_hv = true;
    return body;
  }

  /** Fields shown only for one category (data-show-for). */
  function showCategoryFields() {
    var cat = $("category").value;
    document.querySelectorAll("[data-show-for]").forEach(function (el) {
      el.hidden = el.getAttribute("data-show-for") !== cat;
    });
  }

  /** What the scheme asks for (questions): the field is marked and the reason shown. */
  function showQuestions(scheme) {
    document.querySelectorAll(".field.asked").forEach(function (el) { el.classList.remove("asked"); });
    (scheme.questions || []).forEach(function (q) {
      var field = document.querySelector('.field[data-field="' + q.field + '"]');
      if (field) field.classList.add("asked");
    });
  }

  async function submit(ev) {
    ev.preventDefault();
    clearErrors();
    var body = readForm();
    if (!body.location) {
      showFieldError("location", "请先在地图上点击选择您的用电地址。");
      return;
    }
    if (!body.customer_name) body.customer_name = "网上报装客户";
    var button = $("submit");
    var status = $("submit-status");
    button.disabled = true;
    status.className = "status";
    status.textContent = "正在根据电网可开放容量计算供电方案，请稍候…";
    try {
      var r = await fetch(API + "/applications", {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify(body),
      });
      var data = await r.json().catch(function () { return null; });
      if (r.status === 201 || r.ok) {
        state.application = { id: data.application_id, token: data.access_token, capacity_kva: body.capacity_kva };
        state.scheme = data.scheme;
        status.textContent = "已生成供电方案（申请编号 " + data.application_id + "），请在下方比较并选择。";
        status.className = "status ok";
        hideResult();
        renderScheme(data.scheme);
        $("scheme").scrollIntoView({ behavior: "smooth", block: "start" });
      } else if (r.status === 422) {
        var detail = data && data.detail;
        if (Array.isArray(detail)) {
          detail.forEach(function (item) { showFieldError(fieldOf(item), messageZh(item.msg)); });
        } else {
          showFieldError(null, String(detail || "填写有误"));
        }
        status.textContent = "申请信息有误，请按提示修改后重新提交。";
        status.className = "status error";
      } else {
        var msg = data && data.detail ? (typeof data.detail === "string" ? data.detail : JSON.stringify(data.detail)) : "";
        status.textContent = "服务暂时无法生成方案（HTTP " + r.status + "）" + (msg ? "：" + msg : "") + "，请稍后重试。";
        status.className = "status error";
      }
    } catch (err) {
      status.textContent = "网络连接失败，请检查网络后重试。（" + err.message + "）";
      status.className = "status error";
    } finally {
      button.disabled = false;
    }
  }

  function onCustomerType() {
    var resident = $("customer_type").value === "resident";
    var industry = $("industry");
    var ownership = $("ownership");
    if (resident) {
      industry.value = "residential";
      ownership.value = "individual";
    } else {
      if (industry.value === "residential") industry.value = "commercial";
      if (ownership.value === "individual") ownership.value = "private";
    }
  }

  // ------------------------------------------------------------------ scheme

  function row(label, value, cls) {
    return h("div", { class: "row" + (cls ? " " + cls : "") }, h("span", { class: "k" }, label), h("span", { class: "v" }, value));
  }

  function renderScheme(scheme) {
    setRoutes(scheme);
    var section = $("scheme");
    var summary = $("scheme-summary");
    var box = $("options");
    summary.textContent = "";
    box.textContent = "";
    var cls = scheme.classification || {};
    summary.appendChild(
      h("div", { class: "summary-grid" },
        row("客户分类", name(CLASS, cls.customer_class)),
        row("供电电压", voltage(scheme.supply_voltage_kv)),
        row("办电时限", scheme.time_limit_workdays + " 个工作日，预计 " + dateZh(scheme.due_date) + " 前完成"),
        row("投资界面", name(BOUNDARY, scheme.investment_boundary)))
    );
    (scheme.questions || []).forEach(function (q) {
      summary.appendChild(h("p", { class: "warn question", "data-question": q.field }, "请补充：" + q.why));
    });
    showQuestions(scheme);
    if (scheme.constrained) {
      summary.appendChild(
        h("p", { class: "warn" },
          "提示：目前附近电网的可开放容量不足以立即满足您申请的全部容量。供电公司将按“先接入、后改造”为您安排过渡方案（见各方案中的“过渡方案”）。")
      );
    }
    var options = scheme.options || [];
    var cheapest = Math.min.apply(null, options.map(function (o) { return costOf(o, "customer"); }));
    var nearest = Math.min.apply(null, options.map(lengthOf));
    options.forEach(function (opt) {
      box.appendChild(renderOption(scheme, opt, {
        cheapest: options.length > 1 && costOf(opt, "customer") === cheapest,
        nearest: options.length > 1 && lengthOf(opt) === nearest,
      }));
    });
    if (!options.length && scheme.review_required) {
      box.appendChild(h("article", { class: "option-empty" },
        h("h3", {}, "方案需专业审查"),
        h("p", {}, "您申请的容量需以 " + voltage(scheme.supply_voltage_kv) +
          " 供电，供电公司将组织专业人员审查后答复供电方案。")));
    } else if (!options.length) {
      var lone = h("article", { class: "option-empty" },
        h("h3", {}, "暂无可立即接入的方案"),
        h("p", {}, "附近电网暂时没有足够的可开放容量。"));
      if (scheme.transition_plan) lone.appendChild(renderTransition(scheme.transition_plan));
      box.appendChild(lone);
    }
    section.setAttribute("data-application-id", state.application ? state.application.id : "");
    section.hidden = false;
  }

  function costOf(opt, who) {
    return opt.cost_cny && typeof opt.cost_cny[who] === "number" ? opt.cost_cny[who] : Infinity;
  }

  function lengthOf(opt) {
    return (opt.sources || []).reduce(function (sum, src) { return sum + (src.length_m || 0); }, 0);
  }

  function renderOption(scheme, opt, tags) {
    var id = opt.option_id;
    var recommended = scheme.recommended_option_id === id;
    var card = h("article", { class: "option" + (recommended ? " recommended" : ""), "data-option-id": id });
    card.appendChild(
      h("h3", {}, "方案 " + id,
        recommended ? h("span", { class: "badge rec" }, "推荐") : null,
        tags.cheapest ? h("span", { class: "badge" }, "最省钱") : null,
        tags.nearest ? h("span", { class: "badge" }, "最近") : null,
        opt.supporting_project ? h("span", { class: "badge warn-badge" }, "需配套电网工程") : null)
    );

    var sources = h("div", { class: "block sources" }, h("h4", {}, "接入点"));
    (opt.sources || []).forEach(function (src) {
      var left = src.openable_kva_after;
      sources.appendChild(
        h("div", { class: "source", "data-cp-id": src.connection_point_id, "data-role": src.role,
                   "data-carries-kva": src.carries_kva },
          h("div", { class: "src-name" },
            h("span", { class: "role" }, name(ROLE, src.role)),
            " ", src.connection_point_name || src.connection_point_id,
            src.connection_point_kind ? h("span", { class: "muted" }, "（" + name(POINT_KIND, src.connection_point_kind) + "）") : null),
          row("所属线路", src.feeder_name || src.feeder_id || "变电站母线直接出线"),
          row("线路长度", metres(src.length_m) + (src.line_type ? "（" + name(LINE, src.line_type) + "）" : "") +
            (src.route && src.route.method === "corridor" ? "，沿道路及通道" : "，直线估算待勘测")),
          src.conductor ? row("导线", src.conductor.type + (src.circuits > 1 ? " × " + src.circuits + " 回" : "")) : null,
          row("供电容量", kva(src.carries_kva)),
          row("可开放容量余量",
            kva(src.openable_kva_before) + " → " +
              (typeof left === "number" && left < 0 ? "接入后缺口 " + kva(-left) : "接入后余 " + kva(left)),
            typeof left === "number" && left < 0 ? "neg" : ""))
      );
    });
    card.appendChild(sources);

    var c = opt.cost_cny || {};
    card.appendChild(
      h("div", { class: "block cost" }, h("h4", {}, "费用"),
        row("客户承担", money(c.customer), "cost-customer"),
        row("供电公司承担", money(c.utility)),
        row("政府承担", money(c.government)),
        row("合计", money(c.total), "total"),
        (opt.fees || []).map(function (f) {
          return row(name(FEE, f.code), money(f.amount_cny) + "（政府定价，向供电公司缴纳；除容量最大的一路外按容量收取）", "fee");
        }))
    );

    var steps = h("ol", { class: "steps" });
    (scheme.steps || []).forEach(function (code) { steps.appendChild(h("li", { "data-step": code }, name(STEP, code))); });
    card.appendChild(
      h("div", { class: "block" }, h("h4", {}, "办电环节"), steps,
        row("办电时限", (opt.time_limit_workdays ?? scheme.time_limit_workdays) + " 个工作日", "days"),
        row("预计完成日期", dateZh(opt.due_date || scheme.due_date), "due"))
    );

    if (opt.reliability) {
      var rel = opt.reliability;
      card.appendChild(
        h("div", { class: "block" }, h("h4", {}, "供电可靠性"),
          row("预计年均停电", rel.outage_hours_per_year.toFixed(2) + " 小时", "outage"),
          row("区域目标", "≤ " + rel.target_hours + " 小时（" + (rel.meets_target ? "满足" : "未满足") + "）", "target"))
      );
    }

    var mats = h("ul", { class: "materials" });
    (scheme.materials || []).forEach(function (code) { mats.appendChild(h("li", { "data-material": code }, name(MATERIAL, code))); });
    if (!(scheme.materials || []).length) mats.appendChild(h("li", {}, "无需另行提交资料"));
    card.appendChild(h("div", { class: "block" }, h("h4", {}, "申请资料"), mats));

    if (scheme.constrained && scheme.transition_plan) card.appendChild(renderTransition(scheme.transition_plan));

    var url = API + "/applications/" + encodeURIComponent(state.application.id) + "/reply-sheet?option_id=" + encodeURIComponent(id);
    card.appendChild(
      h("div", { class: "actions" },
        h("button", { type: "button", class: "choose primary", "data-option-id": id, onclick: function () { choose(id); } }, "选择此方案"),
        h("a", { class: "print", href: url, "data-option-id": id, onclick: function (ev) { printSheet(ev, url); } }, "打印答复单"))
    );
    return card;
  }

  function renderTransition(plan) {
    var box = h("div", { class: "block transition" }, h("h4", {}, "过渡方案（先接入、后改造）"));
    box.appendChild(row("过渡期可先用容量", kva(plan.interim_capacity_kva)));
    var ul = h("ul", {});
    (plan.measures || []).forEach(function (m) {
      var text = name(MEASURE, m.kind);
      if (m.kind === "upgrade" && m.project) text += "：" + name(PROJECT, m.project);
      else if (m.kind === "staged" && Array.isArray(m.stages)) {
        text += "：" + m.stages.map(function (st) { return "第" + st.stage + "期 " + kva(st.capacity_kva); }).join("，");
      } else if (typeof m.capacity_kva === "number") text += "：" + kva(m.capacity_kva);
      ul.appendChild(h("li", { "data-measure": m.kind }, text));
    });
    box.appendChild(ul);
    (plan.upgrade_projects || []).forEach(function (p) {
      box.appendChild(
        row("电网改造", name(PROJECT, p.kind) + "，约 " + money(p.cost_cny) + "，工期 " + p.duration_workdays +
          " 个工作日（资金渠道：" + name(FUNDING, p.funding_channel) + "）")
      );
    });
    if (plan.restricted_report_due) box.appendChild(row("受限情况报告", dateZh(plan.restricted_report_due) + " 前"));
    return box;
  }

  // ----------------------------------------------------------- choose, print

  function hideResult() {
    var el = $("result");
    el.hidden = true;
    el.textContent = "";
    el.removeAttribute("data-status");
  }

  function showResult(status, lines) {
    var el = $("result");
    el.textContent = "";
    el.setAttribute("data-status", status);
    el.className = "result " + status;
    lines.forEach(function (l, i) { el.appendChild(h(i ? "p" : "strong", {}, l)); });
    el.hidden = false;
    el.scrollIntoView({ behavior: "smooth", block: "nearest" });
  }

  async function choose(optionId) {
    var a = state.application;
    if (!a) return;
    var buttons = document.querySelectorAll("button.choose");
    buttons.forEach(function (b) { b.disabled = true; });
    showResult("pending", ["正在为您预留容量，请稍候…"]);
    var ok = false;
    try {
      var r = await fetch(API + "/applications/" + encodeURIComponent(a.id) + "/select", {
        method: "POST",
        headers: {
          "Content-Type": "application/json",
          Accept: "application/json",
          Authorization: "Bearer " + a.token,
        },
        body: JSON.stringify({ option_id: optionId }),
      });
      var data = await r.json().catch(function () { return null; });
      if (r.ok) {
        ok = true;
        document.querySelectorAll(".option").forEach(function (card) {
          var mine = card.getAttribute("data-option-id") === optionId;
          card.classList.toggle("chosen", mine);
          if (mine) card.querySelector("button.choose").textContent = "已选择此方案";
        });
        showResult("success", [
          "选择成功！您已选择方案 " + optionId + "，已为您预留 " +
            kva(data && typeof data.reserved_kva === "number" ? data.reserved_kva : a.capacity_kva) +
            " 的接入容量（按您的最大需用负荷计）。",
          "申请编号：" + a.id + "。请点击该方案的“打印答复单”，并按“申请资料”准备材料；供电公司将按办电环节与您联系。",
        ]);
      } else if (r.status === 409) {
        var left = data && typeof data.capacity_left_kva === "number" ? data.capacity_left_kva : null;
        showResult("conflict", [
          "很抱歉，方案 " + optionId + " 的接入容量已被其他申请占用，未能预留。",
          (left === null ? "" : "该接入点目前剩余可开放容量 " + kva(left) + "，不足您所需的容量。") +
            "请选择其他方案，或点击“生成供电方案”重新计算。",
        ]);
      } else if (r.status === 401 || r.status === 403) {
        showResult("error", ["访问凭证已失效，请重新生成供电方案后再选择。"]);
      } else {
        var msg = data && data.detail ? (typeof data.detail === "string" ? data.detail : JSON.stringify(data.detail)) : "";
        showResult("error", ["选择方案失败（HTTP " + r.status + "）" + (msg ? "：" + msg : "") + "，请稍后重试。"]);
      }
    } catch (err) {
      showResult("error", ["网络连接失败，未能选择方案，请重试。（" + err.message + "）"]);
    } finally {
      if (!ok) buttons.forEach(function (b) { b.disabled = false; });
      await refreshCapacity();
    }
  }

  /** The reply sheet needs the Bearer token, so fetch it and open it as a Blob URL. */
  async function printSheet(ev, url) {
    ev.preventDefault();
    var a = state.application;
    if (!a) return;
    // Open the tab inside the click so pop-up blockers allow it, then fill it.
    var win = window.open("", "_blank");
    if (win) {
      try {
        win.document.title = "供电方案答复单";
        win.document.body.textContent = "正在生成供电方案答复单…";
      } catch (e) { /* another origin: nothing to say */ }
    }
    try {
      var r = await fetch(url, { headers: { Authorization: "Bearer " + a.token, Accept: "text/html" } });
      if (!r.ok) throw new Error("HTTP " + r.status);
      var html = await r.text();
      var blobUrl = URL.createObjectURL(new Blob([html], { type: "text/html;charset=utf-8" }));
      if (win && !win.closed) {
        win.location.href = blobUrl;
      } else {
        var link = h("a", { href: blobUrl, target: "_blank", rel: "noopener" });
        document.body.appendChild(link);
        link.click();
        link.remove();
      }
      setTimeout(function () { URL.revokeObjectURL(blobUrl); }, 120000);
    } catch (err) {
      if (win && !win.closed) win.close();
      showResult("error", ["答复单生成失败，请稍后重试。（" + err.message + "）"]);
    }
  }

  // ------------------------------------------------ published information

  function substationName(id) {
    for (var i = 0; i < state.substations.length; i++) {
      var p = state.substations[i].properties;
      if (String(p.id) === String(id)) return p.name || null;
    }
    return null;
  }

  function lightDot(light) {
    var l = light === "green" || light === "yellow" || light === "red" ? light : "unknown";
    return h("i", { class: "dot " + l, title: name(LIGHT, l === "unknown" ? null : l) });
  }

  /** Which <details> in a box are open, by data-key (kept across a re-render). */
  function openDetails(box) {
    var open = {};
    box.querySelectorAll("details[data-key]").forEach(function (d) { open[d.getAttribute("data-key")] = d.open; });
    return open;
  }

  function details(key, open, summary) {
    var d = h("details", { "data-key": key, class: "fold" }, h("summary", {}, summary));
    if (open) d.open = true;
    for (var i = 3; i < arguments.length; i++) append(d, arguments[i]);
    return d;
  }

  function num(v) {
    return v === null || v === undefined ? "—" : intFmt.format(v);
  }

  /** Green/yellow/red counts, what the group can take at once (a substation: its main
   *  transformers' openable capacity; an area: not additive) and the largest single point,
   *  one row per group, with the district in the foot. */
  function countTable(head, rows, attr, district) {
    var th = function (text, dot) { return h("th", { class: "n" }, dot ? lightDot(dot) : null, text); };
    var tbody = h("tbody", {});
    var total = { elements: 0, green: 0, yellow: 0, red: 0, openable_kva_max: null };
    rows.forEach(function (r) {
      var a = {};
      a[attr] = r.key;
      var together = typeof r.data.openable_kva === "number"
        ? h("span", { title: "受主变可开放容量约束" }, kva(r.data.openable_kva))
        : h("span", { class: "muted", title: "同一线路、同一主变上的接入点共用容量，不能相加" }, "不可相加");
      tbody.appendChild(
        h("tr", a,
          h("th", { scope: "row" }, r.label, r.sub ? h("span", { class: "muted sub" }, r.sub) : null),
          h("td", { class: "n" }, num(r.data.elements)),
          h("td", { class: "n c-green" }, num(r.data.green)),
          h("td", { class: "n c-yellow" }, num(r.data.yellow)),
          h("td", { class: "n c-red" }, num(r.data.red)),
          h("td", { class: "n" }, together),
          h("td", { class: "n strong" }, kva(r.data.openable_kva_max)))
      );
      ["elements", "green", "yellow", "red"].forEach(function (k) { total[k] += r.data[k] || 0; });
      if (typeof r.data.openable_kva_max === "number") {
        total.openable_kva_max = Math.max(total.openable_kva_max === null ? -Infinity : total.openable_kva_max, r.data.openable_kva_max);
      }
    });
    return h("div", { class: "table-scroll" }, h("table", { class: "grid-table counts" },
      h("thead", {},
        h("tr", {}, h("th", {}, head), th("接入点"), th("绿", "green"), th("黄", "yellow"), th("红", "red"),
          th("可同时开放"), th("单点最大"))),
      tbody,
      h("tfoot", {},
        h("tr", {},
          h("th", { scope: "row" }, "全区"),
          h("td", { class: "n" }, num(total.elements)),
          h("td", { class: "n c-green" }, num(total.green)),
          h("td", { class: "n c-yellow" }, num(total.yellow)),
          h("td", { class: "n c-red" }, num(total.red)),
          h("td", { class: "n", "data-district": "" }, typeof district === "number" ? kva(district) : "—"),
          h("td", { class: "n strong" }, kva(total.openable_kva_max))))));
  }

  function feederKva(v) {
    if (v === null || v === undefined) return h("span", { class: "fd-kva muted" }, "—");
    if (v < 0) return h("span", { class: "fd-kva neg", title: "已超出可开放容量" }, "缺口 " + kva(-v));
    return h("span", { class: "fd-kva" }, kva(v));
  }

  function renderPublication() {
    var pub = state.publication;
    if (!pub) return;
    var section = $("publication");
    var body = $("publication-body");
    var open = openDetails(body);
    body.textContent = "";
    body.className = "pub-body";
    var net = pub.network || {};

    body.appendChild(
      h("div", { class: "summary-grid pub-meta" },
        row("发布日期", dateZh(pub.published_on), "published-on"),
        row("电网模型", (net.id || "—") + "（版本 " + (net.version || "—") + "）", "network-version"),
        row("规则版本", pub.rules_version || "—", "rules-version"),
        row("办理中的容量预留", num(pub.in_flight_reservations || 0) + " 笔", "in-flight"))
    );
    body.appendChild(
      h("p", { class: "muted note" },
        "可开放容量指在不改造电网的前提下还可接入的用电容量。按接入点（环网柜、杆塔、变电站间隔等）统计：",
        lightDot("green"), "绿 充足、", lightDot("yellow"), "黄 有限、", lightDot("red"),
        "红 不足；已为在办申请预留的容量已扣除。")
    );

    var byArea = {};
    (pub.by_area_class || []).forEach(function (r) { byArea[r.area_class] = r; });
    var areaRows = AREA_CLASS.filter(function (a) { return byArea[a[0]]; }).map(function (a) {
      return { key: a[0], label: a[1], data: byArea[a[0]] };
    });
    (pub.by_area_class || []).forEach(function (r) {
      if (!AREA_CLASS.some(function (a) { return a[0] === r.area_class; })) {
        areaRows.push({ key: r.area_class, label: String(r.area_class), data: r });
      }
    });
    var subRows = (pub.by_substation || []).map(function (r) {
      var nm = substationName(r.substation);
      return { key: r.substation, label: nm || String(r.substation), sub: nm ? r.substation : null, data: r };
    });
    body.appendChild(
      details("stats", open.stats !== false, "按供电区域、按变电站统计",
        h("div", { class: "pub-tables" },
          h("div", { class: "pub-table", id: "publication-by-area" }, h("h3", {}, "按供电区域"),
            countTable("供电区域", areaRows, "data-area-class", (pub.district || {}).openable_kva)),
          h("div", { class: "pub-table", id: "publication-by-substation" }, h("h3", {}, "按变电站"),
            countTable("变电站", subRows, "data-substation", (pub.district || {}).openable_kva))),
        h("p", { class: "muted note" },
          "“可同时开放”：变电站按其主变压器还可接入的容量公布，全区为各变电站之和；同一线路上的接入点共用线路容量，供电区域内不能简单相加。“单点最大”：一个客户在单个接入点最多可接入的容量。计算时间：",
          pub.computed_at ? pub.computed_at.replace("T", " ").slice(0, 16) + "（UTC）" : "—"))
    );

    if (pub.plan && pub.plan.length) {
      var plist = h("ul", { class: "plan-list", id: "publication-plan" });
      pub.plan.forEach(function (p) {
        var adds = p.adds_kva || {};
        var gain = [];
        if (adds.main_transformers > 0) gain.push("主变可开放容量 +" + kva(adds.main_transformers));
        if (adds.feeders > 0) gain.push("线路可开放容量 +" + kva(adds.feeders));
        plist.appendChild(h("li", { "data-plan-year": p.year },
          h("strong", {}, p.year + " 年"), "　" + p.name,
          h("span", { class: "muted" }, "（投资约 " + money(p.cost_cny) + (gain.length ? "；" + gain.join("，") : "") + "）")));
      });
      body.appendChild(details("plan", open.plan === true, "电网规划（已列入计划的项目及新增可开放容量）", plist));
    }

    var corridors = pub.corridors || [];
    if (corridors.length) {
      var clist = h("ul", { class: "corridor-list", id: "publication-corridors" });
      corridors.forEach(function (c) {
        clist.appendChild(h("li", { "data-corridor-kind": c.kind },
          c.name + "：" + num(c.count) + " 条，约 " + num(c.length_km) + " 公里"));
      });
      body.appendChild(details("corridors", open.corridors === true, "电力管廊通道及道路（新建线路沿此敷设）",
        clist, h("p", { class: "muted note" }, "线路走向见地图；新建线路优先沿电缆管沟和道路敷设。")));
    }

    var feeders = pub.feeders || [];
    var groups = [];
    var bySub = {};
    feeders.forEach(function (f) {
      var k = f.substation_id || "";
      if (!bySub[k]) {
        bySub[k] = [];
        groups.push(k);
      }
      bySub[k].push(f);
    });
    var counts = { green: 0, yellow: 0, red: 0 };
    feeders.forEach(function (f) { if (counts[f.light] !== undefined) counts[f.light] += 1; });
    var list = h("div", { class: "feeder-groups", id: "publication-feeders" });
    groups.forEach(function (sid) {
      var ul = h("ul", { class: "feeder-list" });
      bySub[sid].forEach(function (f) {
        ul.appendChild(
          h("li", { "data-feeder-id": f.id, "data-light": f.light || "unknown" },
            lightDot(f.light), h("span", { class: "fd-name" }, f.name || f.id), feederKva(f.openable_kva))
        );
      });
      list.appendChild(
        h("div", { class: "feeder-group", "data-substation": sid },
          h("h4", {}, (substationName(sid) || sid || "其他") + "（" + bySub[sid].length + " 条）"), ul)
      );
    });
    body.appendChild(
      details("feeders", !!open.feeders,
        "10千伏线路可开放容量（共 " + feeders.length + " 条：绿 " + counts.green + "，黄 " + counts.yellow +
          "，红 " + counts.red + "）",
        list)
    );

    section.setAttribute("data-network-version", net.version || "");
    section.setAttribute("data-in-flight", String(pub.in_flight_reservations || 0));
    section.setAttribute("aria-busy", "false");
  }

  var publicationSeq = 0;
  async function loadPublication() {
    var seq = ++publicationSeq;
    var section = $("publication");
    try {
      var pub = await getJson(API + "/capacity/publication");
      if (seq !== publicationSeq) return;
      state.publication = pub;
      try {
        var plan = await getJson(API + "/planning");
        pub.plan = plan.status === "ready" ? plan.projects : null;
      } catch (e) {
        pub.plan = null; // still being computed: shown at the next refresh
      }
      if (seq !== publicationSeq) return;
      renderPublication();
      section.setAttribute("data-ready", "true");
      section.setAttribute("data-refreshed", String(Date.now()));
    } catch (err) {
      if (seq !== publicationSeq) return;
      var body = $("publication-body");
      var msg = "可开放容量公开信息" + (state.publication ? "刷新" : "加载") + "失败，请稍后刷新页面。（" + err.message + "）";
      if (state.publication) body.insertBefore(h("p", { class: "status error" }, msg), body.firstChild);
      else {
        body.textContent = msg;
        body.className = "status error";
      }
    }
  }

  function renderRules(rules) {
    var body = $("rules-body");
    body.textContent = "";
    body.className = "rules-body";
    var fees = rules.fees || {};
    body.appendChild(
      h("div", { class: "summary-grid" },
        row("规则版本", rules.rules_version || "—", "rules-version"),
        row("业务类型", (rules.business_types || []).length + " 类"))
    );
    if (fees.zh) body.appendChild(h("p", { class: "fee-note", id: "rules-fees" }, h("strong", {}, "收费："), fees.zh, "。"));

    var tbody = h("tbody", {});
    (rules.business_types || []).forEach(function (bt) {
      var tl = bt.time_limit_workdays || {};
      var steps = h("ol", { class: "flow" });
      (bt.steps || []).forEach(function (st) { steps.appendChild(h("li", { "data-step": st.code }, st.zh || st.code)); });
      var insp = (bt.inspections || []).map(function (c) { return name(INSPECTION, c); });
      var mats = h("ul", { class: "mats" });
      (bt.materials || []).forEach(function (m) { mats.appendChild(h("li", { "data-material": m.code }, m.zh || m.code)); });
      if (!(bt.materials || []).length) mats.appendChild(h("li", {}, "无需另行提交"));
      var feeText = (bt.fees || []).length
        ? (bt.fees || []).map(function (c) { return name(FEE, c); }).join("、")
        : "不收费";
      var boundary = bt.investment_boundary || {};
      tbody.appendChild(
        h("tr", { "data-business-type": bt.business_type, "data-customer-class": bt.customer_class },
          h("th", { scope: "row", class: "bt-label" }, bt.label_zh || bt.business_type),
          h("td", { class: "bt-class" }, name(CLASS, bt.customer_class)),
          h("td", { class: "bt-steps" }, steps,
            insp.length ? h("div", { class: "muted small" }, "含检查：" + insp.join("、")) : null),
          h("td", { class: "n bt-days" }, num(tl.without_supporting_project)),
          h("td", { class: "n bt-days" }, num(tl.with_supporting_project)),
          h("td", { class: "bt-materials" }, mats),
          h("td", { class: "bt-boundary" }, boundary.zh || name(BOUNDARY, boundary.code)),
          h("td", { class: "bt-fees" + ((bt.fees || []).length ? " has-fee" : "") }, feeText))
      );
    });
    var table = h("table", { class: "grid-table rules-table" },
      h("thead", {},
        h("tr", {},
          h("th", { rowspan: 2 }, "业务类型"),
          h("th", { rowspan: 2 }, "客户分类"),
          h("th", { rowspan: 2 }, "办电环节"),
          h("th", { colspan: 2, class: "c" }, "办电时限（工作日）"),
          h("th", { rowspan: 2 }, "申请资料"),
          h("th", { rowspan: 2 }, "投资界面"),
          h("th", { rowspan: 2 }, "收费")),
        h("tr", {},
          h("th", { class: "n", title: "无需配套电网工程" }, "无配套"),
          h("th", { class: "n", title: "需要配套电网工程" }, "有配套"))),
      tbody);
    body.appendChild(
      details("types", true, "各类业务的办电环节、时限、申请资料与投资界面（共 " + (rules.business_types || []).length + " 类）",
        h("div", { class: "table-scroll" }, table),
        h("p", { class: "muted note" },
          "“无配套”“有配套”指是否需要同步建设配套电网工程。"))
    );
    var section = $("rules");
    section.setAttribute("data-ready", "true");
    section.setAttribute("aria-busy", "false");
  }

  async function loadRules() {
    try {
      state.rules = await getJson(API + "/rules");
      renderRules(state.rules);
    } catch (err) {
      var body = $("rules-body");
      body.textContent = "办电规则加载失败，请稍后刷新页面。（" + err.message + "）";
      body.className = "status error";
    }
  }

  // ------------------------------------------------------- 容量测算 (advisor)

  // the service's load classes (scheme_generator LOAD_CLASSES), in the list's order
  var LOAD_CLASS = [
    ["lighting", "照明"],
    ["motors", "电动机（水泵、风机、空压机等）"],
    ["air_conditioning", "空调"],
    ["heating", "电加热（电采暖、电热水器等）"],
    ["kitchen", "厨房电器"],
    ["it_equipment", "电脑及信息设备"],
    ["ev_charger", "电动汽车充电桩"],
    ["other", "其他用电设备"],
  ];
  var ADVISOR_MAX_ROWS = 200;
  var LOAD_FIELD = { kind: "设备类别", kw: "单台功率", count: "台数" };

  function advisorRows() {
    return Array.prototype.slice.call($("advisor-rows").querySelectorAll(".advisor-row"));
  }

  function renumberAdvisorRows() {
    var rows = advisorRows();
    rows.forEach(function (r, i) {
      var n = i + 1;
      r.setAttribute("data-row", String(i));
      r.querySelector(".adv-kind").setAttribute("aria-label", "第 " + n + " 行 设备类别");
      r.querySelector(".adv-kw").setAttribute("aria-label", "第 " + n + " 行 单台功率（千瓦）");
      r.querySelector(".adv-count").setAttribute("aria-label", "第 " + n + " 行 台数");
      var del = r.querySelector(".adv-del");
      del.setAttribute("aria-label", "删除第 " + n + " 行");
      del.disabled = rows.length === 1;
    });
    $("advisor-add").disabled = rows.length >= ADVISOR_MAX_ROWS;
  }

  function addAdvisorRow(kind) {
    if (advisorRows().length >= ADVISOR_MAX_ROWS) return null;
    var select = h("select", { class: "adv-kind" });
    LOAD_CLASS.forEach(function (c) {
      select.appendChild(h("option", { value: c[0], selected: c[0] === kind }, c[1]));
    });
    var rowEl = h("div", { class: "advisor-row" },
      select,
      h("input", { class: "adv-kw", type: "number", min: "0", step: "any", inputmode: "decimal", placeholder: "如 20" }),
      h("input", { class: "adv-count", type: "number", min: "1", step: "1", inputmode: "numeric", value: "1" }),
      h("button", {
        type: "button",
        class: "adv-del",
        title: "删除此行",
        onclick: function () {
          rowEl.remove();
          renumberAdvisorRows();
          hideAdvice();
        },
      }, "×"));
    rowEl.addEventListener("input", function () { rowEl.classList.remove("has-error"); });
    rowEl.addEventListener("change", hideAdvice);
    $("advisor-rows").appendChild(rowEl);
    renumberAdvisorRows();
    return rowEl;
  }

  /** The advice shown is for the list as it was: once the list changes, it goes. */
  function hideAdvice() {
    var box = $("advisor-result");
    box.hidden = true;
    box.textContent = "";
  }

  function clearAdvisorErrors() {
    advisorRows().forEach(function (r) {
      r.classList.remove("has-error");
      r.querySelectorAll("[aria-invalid]").forEach(function (el) { el.removeAttribute("aria-invalid"); });
    });
    var box = $("advisor-errors");
    box.textContent = "";
    box.hidden = true;
  }

  /** Mark what a 422 item (or a check made here) is about: `loads.1.kw` or `loads[1].kw`. */
  function advisorError(field, msg) {
    var m = /^loads(?:\.|\[)(\d+)\]?(?:\.(\w+))?$/.exec(String(field || ""));
    var where = "设备清单";
    if (m) {
      var i = Number(m[1]);
      var rowEl = advisorRows()[i];
      where = "第 " + (i + 1) + " 行" + (m[2] ? " " + (LOAD_FIELD[m[2]] || m[2]) : "");
      if (rowEl) {
        rowEl.classList.add("has-error");
        var input = m[2] ? rowEl.querySelector(".adv-" + m[2]) : null;
        if (input) input.setAttribute("aria-invalid", "true");
      }
    }
    var box = $("advisor-errors");
    box.hidden = false;
    box.appendChild(h("div", {}, where + "：" + messageZh(msg)));
  }

  function readAdvisorRows() {
    var loads = [];
    var ok = true;
    advisorRows().forEach(function (r, i) {
      var kw = r.querySelector(".adv-kw").value.trim();
      var count = r.querySelector(".adv-count").value.trim();
      if (kw === "") {
        advisorError("loads." + i + ".kw", "请填写单台功率");
        ok = false;
      }
      if (count === "") {
        advisorError("loads." + i + ".count", "请填写台数");
        ok = false;
      }
      loads.push({ kind: r.querySelector(".adv-kind").value, kw: Number(kw), count: Number(count) });
    });
    return ok ? loads : null;
  }

  async function submitAdvisor(ev) {
    ev.preventDefault();
    clearAdvisorErrors();
    hideAdvice();
    var status = $("advisor-status");
    var loads = readAdvisorRows();
    if (!loads) {
      status.textContent = "请按提示补全设备信息。";
      status.className = "status error";
      return;
    }
    var button = $("advisor-submit");
    button.disabled = true;
    status.className = "status";
    status.textContent = "正在测算…";
    try {
      var r = await fetch(API + "/advice/capacity", {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ loads: loads }),
      });
      var data = await r.json().catch(function () { return null; });
      if (r.ok && data) {
        status.textContent = "";
        renderAdvice(data);
      } else if (r.status === 422 && data && Array.isArray(data.detail)) {
        data.detail.forEach(function (item) { advisorError(item.field, item.msg); });
        status.textContent = "设备信息有误，请按提示修改后重新测算。";
        status.className = "status error";
      } else {
        var msg = data && typeof data.detail === "string" ? data.detail : "";
        status.textContent = (r.status === 429 ? "测算过于频繁，请稍后再试" : "暂时无法测算（HTTP " + r.status + "）") + (msg ? "：" + msg : "") + "。";
        status.className = "status error";
      }
    } catch (err) {
      status.textContent = "网络连接失败，请检查网络后重试。（" + err.message + "）";
      status.className = "status error";
    } finally {
      button.disabled = false;
    }
  }

  function renderAdvice(a) {
    var box = $("advisor-result");
    box.textContent = "";
    var t = a.transformers;
    var trafo;
    if (t) {
      trafo = t.count + " 台 × " + intFmt.format(t.sn_kva) + " kVA（负载率约 " + decFmt.format(t.loading_percent) + "%）";
    } else if (a.supply_voltage_kv < 1) {
      trafo = "无需自备变压器（由公用电网低压供电）";
    } else {
      trafo = "由设计单位按申请容量选定";
    }
    var applied = intFmt.format(a.applied_capacity) + " " + a.applied_capacity_unit;
    var reasons = h("ol", { class: "advisor-reasoning" });
    (a.reasoning || []).forEach(function (line) { reasons.appendChild(h("li", {}, line)); });
    box.appendChild(h("div", { class: "advisor-summary" },
      row("推荐申请容量", applied, "total"),
      row("供电电压", voltage(a.supply_voltage_kv)),
      row("变压器", trafo),
      t ? row("可选型号", (t.types || []).join(" 或 ")) : null,
      row("最大需用负荷", decFmt.format(a.demand_kw) + " kW（" + decFmt.format(a.demand_kva) + " kVA）"),
      row("装机容量", decFmt.format(a.installed_kw) + " kW")));
    box.appendChild(h("h4", {}, "测算过程"));
    box.appendChild(reasons);
    box.appendChild(h("div", { class: "advisor-actions" },
      h("button", {
        type: "button",
        id: "advisor-use",
        class: "primary",
        "data-capacity": a.applied_capacity,
        onclick: function () { useAdvice(a); },
      }, "填入申请容量（" + applied + "）")));
    box.appendChild(h("p", { class: "muted small" },
      "测算结果按典型需要系数估算，仅供参考；最终容量以供电方案为准。"));
    box.setAttribute("data-applied", String(a.applied_capacity));
    box.hidden = false;
  }

  function useAdvice(a) {
    var input = $("capacity_kva");
    input.value = String(a.applied_capacity);
    $("phases").value = a.phases === 1 ? "1" : "3";
    clearError("capacity_kva");
    clearError("phases");
    var status = $("advisor-status");
    status.textContent = "已将 " + intFmt.format(a.applied_capacity) + " 填入“申请容量”" +
      (a.applied_capacity_unit === "kW" ? "（低压用户按千瓦报装）" : "") +
      (a.phases === 1 ? "，供电相数改为单相" : "") + "。";
    status.className = "status ok";
    input.scrollIntoView({ behavior: "smooth", block: "center" });
    input.focus({ preventScroll: true });
  }

  function initAdvisor() {
    addAdvisorRow("lighting");
    $("advisor-add").addEventListener("click", function () {
      hideAdvice();
      var r = addAdvisorRow("other");
      if (r) r.querySelector(".adv-kind").focus();
    });
    $("advisor-form").addEventListener("submit", submitAdvisor);
    $("advisor-open").addEventListener("click", function () { $("advisor").open = true; });
  }

  // -------------------------------------------------------------------- boot

  window.gridcapProject = function (lon, lat) {
    if (!state.frame || !state.svg) return null;
    var xy = project(lon, lat);
    var o = svgOffset();
    return [o[0] + xy[0], o[1] + xy[1]];
  };
  window.gridcapUnproject = function (clientX, clientY) {
    if (!state.frame || !state.svg) return null;
    var o = svgOffset();
    return unproject(clientX - o[0], clientY - o[1]);
  };
  window.gridcap = {
    state: state,
    setSite: setSite,
    refreshCapacity: refreshCapacity,
    loadPublication: loadPublication,
  };

  document.addEventListener("DOMContentLoaded", function () {
    $("application_date").value = today();
    $("category").addEventListener("change", showCategoryFields);
    showCategoryFields();
    $("apply").addEventListener("submit", submit);
    $("customer_type").addEventListener("change", onCustomerType);
    $("lon").addEventListener("input", siteFromInputs);
    $("lat").addEventListener("input", siteFromInputs);
    document.querySelectorAll("#apply input, #apply select").forEach(function (el) {
      el.addEventListener("change", function () {
        var f = el.closest(".field");
        if (f && f.getAttribute("data-field")) clearError(f.getAttribute("data-field"));
      });
    });
    initAdvisor();
    loadMap();
    loadPublication();
    loadRules();
  });
})();
