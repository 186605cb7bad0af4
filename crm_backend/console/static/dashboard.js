// Supervisor dashboard: KPIs over a period, inline-SVG trend chart, live queue, agent load, segments, churn list.
"use strict";
(function () {
  var $ = function (id) { return document.getElementById(id); };
  function period() { return "start=" + $("start").value + "&end=" + $("end").value + "&lang=" + kefuLang(); }
  function fmt(v, suffix) { return v === null || v === undefined ? "—" : v + (suffix || ""); }

  function table(el, columns, rows) {
    el.innerHTML = "";
    el.appendChild(kefuEl("tr", {}, columns.map(function (c) { return kefuEl("th", { text: t(c[1]) }); })));
    rows.forEach(function (r) {
      el.appendChild(kefuEl("tr", {}, columns.map(function (c) { return kefuEl("td", { text: fmt(r[c[0]]) }); })));
    });
  }

  function chart(points) {
    var w = Math.max(400, $("chart").clientWidth || 720), h = 180, pad = 28, ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 " + w + " " + h); svg.setAttribute("width", String(w)); svg.setAttribute("height", String(h));
    var maxE = Math.max(1, Math.max.apply(null, points.map(function (p) { return p.escalations; }).concat([0])));
    var step = (w - 2 * pad) / Math.max(1, points.length);
    var line = [];
    points.forEach(function (p, i) {
      var x = pad + i * step, bh = (h - 2 * pad) * p.escalations / maxE;
      var bar = document.createElementNS(ns, "rect");
      bar.setAttribute("class", "bar"); bar.setAttribute("x", x + 1); bar.setAttribute("width", Math.max(1, step - 2));
      bar.setAttribute("y", h - pad - bh); bar.setAttribute("height", bh);
      var title = document.createElementNS(ns, "title");
      title.textContent = p.day + ": " + p.escalations + " " + t("escalations") + ", CSAT " + fmt(p.csat);
      bar.appendChild(title); svg.appendChild(bar);
      if (p.csat !== null) line.push((x + step / 2) + "," + (h - pad - (h - 2 * pad) * p.csat / 5));
    });
    var poly = document.createElementNS(ns, "polyline");
    poly.setAttribute("class", "line"); poly.setAttribute("points", line.join(" ")); svg.appendChild(poly);
    [[pad, h - 6, points.length ? points[0].day : ""], [w - pad - 70, h - 6, points.length ? points[points.length - 1].day : ""],
     [2, pad, "CSAT 5 / " + maxE]].forEach(function (l) {
      var txt = document.createElementNS(ns, "text");
      txt.setAttribute("x", l[0]); txt.setAttribute("y", l[1]); txt.textContent = l[2]; svg.appendChild(txt);
    });
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
                 ["first_response", k.first_response_seconds], ["sla_breaches", k.sla_breaches]];
    $("kpis").innerHTML = "";
    cards.forEach(function (c) {
      $("kpis").appendChild(kefuEl("div", { class: "kpi", "data-testid": "kpi-" + c[0] }, [
        kefuEl("span", { text: t(c[0]) }), kefuEl("b", { text: fmt(c[1]) })])); });
    chart((await kefuApi("GET", "/dashboard/timeseries?" + period())).items);
    segments((await kefuApi("GET", "/dashboard/segments?" + period())).items);
    table($("churn"), [["customer_name", "customer"], ["churn_score", "score"], ["reasons_text", "reasons"], ["action", "action"]],
          (await kefuApi("GET", "/dashboard/churn?" + period())).items);
    await live();
  }

  async function live() {
    table($("queue"), [["id", "id"], ["customer_name", "customer"], ["priority", "priority"], ["status", "waiting"],
                       ["assigned_agent_name", "agent"], ["waiting_minutes", "minutes"]],
          (await kefuApi("GET", "/dashboard/queue?" + period())).items);
    table($("agents"), [["display_name", "agent"], ["online", "online"], ["load", "load"], ["resolved", "resolved"],
                        ["avg_csat", "csat"]], (await kefuApi("GET", "/dashboard/agents?" + period())).items);
    table($("audit"), [["at", "time"], ["agent", "agent"], ["action", "action_done"], ["handoff_id", "id"]],
          (await kefuApi("GET", "/dashboard/audit?" + period())).items.slice(0, 50));
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
