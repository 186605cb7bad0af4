// Supervisor dashboard: KPIs over a period, inline-SVG trend chart, live queue, agent load, segments, churn list.
"use strict";
(function () {
  var $ = function (id) { return document.getElementById(id); };
  function period() { return "start=" + $("start").value + "&end=" + $("end").value + "&lang=" + kefuLang(); }
  function fmt(v, suffix) { return v === null || v === undefined ? "—" : v + (suffix || ""); }

  // A column is [field, header key, how to show the value]; by default numbers and text as they are.
  function table(el, columns, rows) {
    el.innerHTML = "";
    el.appendChild(kefuEl("tr", {}, columns.map(function (c) { return kefuEl("th", { text: t(c[1]) }); })));
    rows.forEach(function (r) {
      el.appendChild(kefuEl("tr", {}, columns.map(function (c) {
        return kefuEl("td", { text: c[2] ? c[2](r[c[0]], r) : fmt(r[c[0]]) }); })));
    });
  }
  function label(kind) { return function (v) { return kefuLabel(kind, v); }; }
  function when(v) { return kefuDate(v); }
  function who(v) { return v === "system" ? t("agent_system") : fmt(v); }

  // The paged tables: each keeps its own offset; `pager` is the element under the table.
  var PAGE = 10;
  var paged = {
    churn: { offset: 0, columns: [["customer_name", "customer"], ["tier", "tier", label("tier")], ["churn_score", "score"],
                                  ["reasons_text", "reasons"], ["action", "action"]] },
    queue: { offset: 0, columns: [["id", "id"], ["customer_name", "customer"], ["priority", "priority", label("priority")],
                                  ["status", "status", label("status")], ["channel", "channel", label("channel")],
                                  ["assigned_agent_name", "agent"], ["waiting_minutes", "minutes"],
                                  ["value_customer", "value_customer", label("bool")]] },
    agents: { offset: 0, columns: [["display_name", "agent"], ["online", "online", label("bool")], ["load", "load"],
                                   ["resolved", "resolved"], ["avg_csat", "csat"]] },
    audit: { offset: 0, columns: [["at", "time", when], ["agent", "agent", who], ["action", "action_done", label("audit")],
                                  ["handoff_id", "id"]] }
  };
  async function loadTable(name, offset) {
    var spec = paged[name];
    if (offset !== undefined) spec.offset = offset;
    var page = await kefuApi("GET", "/dashboard/" + name + "?" + period() + "&limit=" + PAGE + "&offset=" + spec.offset);
    if (!page.items.length && page.offset > 0 && page.total > 0) {  // the table shrank under the current page
      return loadTable(name, Math.max(0, (Math.ceil(page.total / PAGE) - 1) * PAGE));
    }
    table($(name), spec.columns, page.items);
    kefuPager($(name + "-pager"), page, function (o) { loadTable(name, o); });
  }

  var SVG = "http://www.w3.org/2000/svg";
  function svgEl(tag, attrs, text) {
    var el = document.createElementNS(SVG, tag);
    Object.entries(attrs).forEach(function (kv) { el.setAttribute(kv[0], String(kv[1])); });
    if (text !== undefined) el.textContent = text;
    return el;
  }
  function niceMax(v) {  // a round top for the count axis: 1, 2, 5, 10, 20, 50, ...
    var top = 1;
    while (top < v) top *= (String(top)[0] === "2" ? 2.5 : 2);
    return top;
  }

  // Bars: escalations a day (left axis); line: average CSAT a day (right axis, 1–5); x axis: days.
  function chart(points) {
    var w = Math.max(480, $("chart").clientWidth || 720), h = 240;
    var left = 48, right = 48, top = 30, bottom = 40, plotW = w - left - right, plotH = h - top - bottom;
    var svg = svgEl("svg", { viewBox: "0 0 " + w + " " + h, width: w, height: h, role: "img", "aria-label": t("trend") });
    var maxE = niceMax(Math.max.apply(null, points.map(function (p) { return p.escalations; }).concat([1])));
    var step = plotW / Math.max(1, points.length);
    function yCount(v) { return top + plotH - plotH * v / maxE; }
    function yCsat(v) { return top + plotH - plotH * (v - 1) / 4; }
    [0, maxE / 2, maxE].forEach(function (v) {  // left axis ticks and grid
      svg.appendChild(svgEl("line", { class: "grid", x1: left, x2: w - right, y1: yCount(v), y2: yCount(v) }));
      svg.appendChild(svgEl("text", { class: "tick", x: left - 6, y: yCount(v) + 3, "text-anchor": "end" }, String(v)));
    });
    [1, 3, 5].forEach(function (v) {
      svg.appendChild(svgEl("text", { class: "tick", x: w - right + 6, y: yCsat(v) + 3 }, String(v)));
    });
    svg.appendChild(svgEl("line", { class: "axis", x1: left, x2: left, y1: top, y2: top + plotH }));
    svg.appendChild(svgEl("line", { class: "axis", x1: w - right, x2: w - right, y1: top, y2: top + plotH }));
    svg.appendChild(svgEl("line", { class: "axis", x1: left, x2: w - right, y1: top + plotH, y2: top + plotH }));
    var line = [], every = Math.max(1, Math.ceil(points.length / 6));
    points.forEach(function (p, i) {
      var x = left + i * step, bh = plotH * p.escalations / maxE;
      var bar = svgEl("rect", { class: "bar", x: x + 1, width: Math.max(1, step - 2), y: top + plotH - bh, height: bh });
      bar.appendChild(svgEl("title", {}, kefuDate(p.day, true) + ": " + p.escalations + " " + t("escalations") +
                                         ", " + t("csat") + " " + fmt(p.csat)));
      svg.appendChild(bar);
      if (p.csat !== null) line.push((x + step / 2) + "," + yCsat(p.csat));
      if (i % every === 0) {
        svg.appendChild(svgEl("text", { class: "tick", "data-testid": "x-tick", x: x + step / 2, y: top + plotH + 14,
                                        "text-anchor": "middle" }, kefuDate(p.day, true).slice(5)));
      }
    });
    svg.appendChild(svgEl("polyline", { class: "line", points: line.join(" ") }));
    svg.appendChild(svgEl("text", { class: "axis-title", x: left + plotW / 2, y: h - 6, "text-anchor": "middle" }, t("day")));
    svg.appendChild(svgEl("text", { class: "axis-title", x: 12, y: top + plotH / 2, "text-anchor": "middle",
                                    transform: "rotate(-90 12 " + (top + plotH / 2) + ")" }, t("axis_count")));
    svg.appendChild(svgEl("text", { class: "axis-title", x: w - 10, y: top + plotH / 2, "text-anchor": "middle",
                                    transform: "rotate(90 " + (w - 10) + " " + (top + plotH / 2) + ")" }, t("axis_csat")));
    var legend = svgEl("g", { class: "legend", "data-testid": "legend", "aria-label": t("legend") });
    legend.appendChild(svgEl("rect", { class: "bar", x: left, y: 8, width: 12, height: 10 }));
    legend.appendChild(svgEl("text", { x: left + 16, y: 17 }, t("escalations")));
    legend.appendChild(svgEl("line", { class: "line", x1: left + 110, x2: left + 130, y1: 13, y2: 13 }));
    legend.appendChild(svgEl("text", { x: left + 134, y: 17 }, t("avg_csat")));
    svg.appendChild(legend);
    $("chart").innerHTML = ""; $("chart").appendChild(svg);
  }

  function segments(items) {
    var box = $("segments"); box.innerHTML = "";
    var total = items.reduce(function (s, i) { return s + i.customers; }, 0) || 1;
    items.forEach(function (i) {
      var pct = Math.round(100 * i.customers / total);
      box.appendChild(kefuEl("div", { class: "seg" }, [
        kefuEl("span", { text: i.segment_label + " " + i.customers + " (" + pct + "%)" }),
        kefuEl("div", { style: "background:#2f6fde;height:8px;width:" + pct + "%" })]));
    });
  }

  async function load() {
    var k = await kefuApi("GET", "/dashboard/kpis?" + period());
    var cards = [["avg_csat", k.avg_csat], ["nps", k.nps], ["complaint_rate", fmt(k.complaint_rate, "%")],
                 ["escalation_rate", fmt(k.escalation_rate, "%")], ["containment_rate", fmt(k.containment_rate, "%")],
                 ["first_response", k.first_response_seconds], ["sla_breaches", k.sla_breaches],
                 ["first_response_breaches", k.first_response_breaches], ["next_response_breaches", k.next_response_breaches],
                 ["suggestion_acceptance_rate", fmt(k.suggestion_acceptance_rate, "%")],
                 ["handle_time", k.handle_time_seconds], ["csat_human", k.csat_human], ["csat_bot", k.csat_bot]];
    $("kpis").innerHTML = "";
    cards.forEach(function (c) {
      $("kpis").appendChild(kefuEl("div", { class: "kpi", "data-testid": "kpi-" + c[0] }, [
        kefuEl("span", { text: t(c[0]) }), kefuEl("b", { text: fmt(c[1]) })])); });
    chart((await kefuApi("GET", "/dashboard/timeseries?" + period())).items);
    segments((await kefuApi("GET", "/dashboard/segments?" + period())).items);
    await loadTable("churn", 0);
    paged.audit.offset = 0;
    await live();
  }

  async function live() {
    await loadTable("queue"); await loadTable("agents"); await loadTable("audit");
  }

  document.querySelectorAll("a.csv").forEach(function (a) {
    a.addEventListener("click", function () { window.location = "/api/v1/dashboard/export/" + a.dataset.table + ".csv?" + period(); });
  });
  $("period").addEventListener("submit", function (e) { e.preventDefault(); load(); });
  kefuApplyStrings();
  load();
  var source = new EventSource("/api/v1/console/events");
  source.addEventListener("handoff", function () { live(); });
})();
