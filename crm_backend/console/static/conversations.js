// Conversations page: the stored conversation stream with filters, a transcript with intents, and (supervisors)
// containment / fallback / handoff rates by language and channel with a daily trend and the top intents.
"use strict";
(function () {
  var $ = function (id) { return document.getElementById(id); };
  var supervisor = document.querySelector("main").dataset.supervisor === "yes";
  function pct(v) { return v === null || v === undefined ? "—" : v + "%"; }

  function query() {
    var parts = ["start=" + $("start").value, "end=" + $("end").value];
    ["channel", "language", "outcome", "intent", "q"].forEach(function (id) {
      if ($(id).value.trim()) parts.push(id + "=" + encodeURIComponent($(id).value.trim()));
    });
    if ($("has_handoff").checked) parts.push("has_handoff=true");
    if ($("low_csat").checked) parts.push("low_csat=true");
    return parts.join("&");
  }

  function rateRow(label, r) {
    return kefuEl("tr", {}, [kefuEl("td", { text: label }), kefuEl("td", { text: String(r.conversations) }),
      kefuEl("td", { text: pct(r.containment_rate) }), kefuEl("td", { text: pct(r.fallback_rate) }),
      kefuEl("td", { text: pct(r.handoff_rate) })]);
  }
  function rateHead(first) {
    return kefuEl("tr", {}, [first, "conversations", "containment", "fallback_rate", "handoff_rate"].map(function (k) {
      return kefuEl("th", { text: t(k) }); }));
  }

  async function figures() {
    var f = await kefuApi("GET", "/conversations/figures?start=" + $("start").value + "&end=" + $("end").value);
    var box = $("figures"); box.innerHTML = "";
    [["conversations", String(f.overall.conversations)], ["containment", pct(f.overall.containment_rate)],
     ["fallback_rate", pct(f.overall.fallback_rate)], ["handoff_rate", pct(f.overall.handoff_rate)]].forEach(function (k) {
      box.appendChild(kefuEl("div", { class: "kpi", "data-kpi": k[0] }, [kefuEl("b", { text: k[1] }),
                                                                         kefuEl("span", { text: t(k[0]) })]));
    });
    var groups = $("by-group"); groups.innerHTML = ""; groups.appendChild(rateHead("group"));
    Object.keys(f.by_language).forEach(function (k) {
      groups.appendChild(rateRow(t("language") + " " + kefuLabel("lang", k), f.by_language[k])); });
    Object.keys(f.by_channel).forEach(function (k) {
      groups.appendChild(rateRow(t("channel") + " " + kefuLabel("channel", k), f.by_channel[k])); });
    var trend = $("trend"); trend.innerHTML = ""; trend.appendChild(rateHead("day"));
    f.trend.forEach(function (d) { trend.appendChild(rateRow(kefuDate(d.day, true), d)); });
    var top = $("top-intents"); top.innerHTML = "";
    top.appendChild(kefuEl("tr", {}, [kefuEl("th", { text: t("intent") }), kefuEl("th", { text: t("count") })]));
    f.top_intents.forEach(function (i) {
      top.appendChild(kefuEl("tr", {}, [kefuEl("td", { text: i.intent }), kefuEl("td", { text: String(i.count) })]));
    });
  }

  async function show(id) {
    var data = await kefuApi("GET", "/conversations/" + id);
    var box = $("transcript"); box.innerHTML = "";
    box.appendChild(kefuEl("p", { text: data.conversation.sender_id + " · " + kefuLabel("channel", data.conversation.channel) +
                                        " · " + kefuLabel("lang", data.conversation.language) + " · " + t("outcome_" + data.conversation.outcome) }));
    data.turns.forEach(function (turn) {
      var line;
      if (turn.kind === "user") {
        line = kefuEl("div", { class: "msg user", "data-testid": "turn-user" }, [kefuEl("span", { text: turn.text || "" }),
          kefuEl("small", { class: "intent", text: " " + (turn.intent || "?") + " " +
                                                   (turn.confidence === null ? "" : turn.confidence.toFixed(2)) })]);
      } else if (turn.kind === "bot") {
        line = kefuEl("div", { class: turn.name === "agent" ? "msg agent" : "msg bot",
                               text: (turn.name === "agent" ? t("agent") + ": " : "") + (turn.text || "") });
      } else {
        line = kefuEl("div", { class: "msg system", text: kefuLabel("turn", turn.kind) + (turn.name ? " " + turn.name : "") +
                                                       (turn.kind === "slot" ? " = " + JSON.stringify(turn.value) : "") });
      }
      box.appendChild(line);
    });
  }

  var PAGE = 20, offset = 0;
  async function list() {
    var page = await kefuApi("GET", "/conversations?" + query() + "&limit=" + PAGE + "&offset=" + offset);
    var table = $("list"); table.innerHTML = "";
    table.appendChild(kefuEl("tr", {}, ["last_activity", "channel", "language", "outcome", "csat"].map(function (k) {
      return kefuEl("th", { text: t(k) }); })));
    page.items.forEach(function (c) {
      table.appendChild(kefuEl("tr", { class: "clickable", "data-testid": "conv-row", onclick: function () { show(c.id); } }, [
        kefuEl("td", { text: kefuDate(c.last_activity_at) }), kefuEl("td", { text: kefuLabel("channel", c.channel) }),
        kefuEl("td", { text: kefuLabel("lang", c.language) }), kefuEl("td", { text: t("outcome_" + c.outcome) }),
        kefuEl("td", { text: c.csat === null ? "—" : String(c.csat) })]));
    });
    $("total").textContent = t("total") + ": " + page.total;
    kefuPager($("pager"), page, function (o) { offset = o; list().catch(function (e) { $("total").textContent = e.message; }); });
  }

  async function refresh() {
    try {
      await list();
      if (supervisor) await figures();
    } catch (error) { $("total").textContent = error.message; }
  }
  $("filters").addEventListener("submit", function (e) { e.preventDefault(); offset = 0; refresh(); });
  refresh();
})();
