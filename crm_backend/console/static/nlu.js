// NLU inbox (supervisors): messages the bot handled poorly, most frequent first; confirm the model's intent,
// pick another, or mark out of scope, one message or many at once. All customer text goes in through textContent.
"use strict";
(function () {
  var $ = function (id) { return document.getElementById(id); };
  var state = { offset: 0, limit: 20, items: [], intents: [] };

  function query() {
    var parts = ["limit=" + state.limit, "offset=" + state.offset];
    ["language", "channel"].forEach(function (id) { if ($(id).value) parts.push(id + "=" + $(id).value); });
    return parts.join("&");
  }

  function intentSelect(selected) {
    var select = kefuEl("select", { "data-testid": "nlu-intent" });
    select.appendChild(kefuEl("option", { value: "", text: t("nlu_pick_intent") }));
    state.intents.forEach(function (name) {
      var option = kefuEl("option", { value: name, text: name });
      if (name === selected) option.selected = true;
      select.appendChild(option);
    });
    return select;
  }

  async function annotate(items) {
    try {
      await kefuApi("POST", "/nlu/annotations", { items: items });
      $("flash").textContent = tf("nlu_saved", { count: items.length });
    } catch (error) {
      $("flash").textContent = error.message;
    }
    await Promise.all([load(), loadAnnotations()]);
  }

  function decision(item, intent) {
    return intent === null ? { text: item.text, language: item.language, out_of_scope: true, predicted: item.predicted }
                           : { text: item.text, language: item.language, intent: intent, predicted: item.predicted };
  }

  function row(item, i) {
    var ranked = kefuEl("div", { class: "ranked" }, item.top_intents.map(function (r) {
      return kefuEl("button", { type: "button", class: "link", "data-testid": "nlu-confirm",
        text: r.name + " " + Math.round(r.confidence * 100) + "%",
        onclick: function () { annotate([decision(item, r.name)]); } });
    }));
    var pick = intentSelect("");
    pick.addEventListener("change", function () { if (pick.value) annotate([decision(item, pick.value)]); });
    return kefuEl("tr", { "data-testid": "nlu-row" }, [
      kefuEl("td", {}, [kefuEl("input", { type: "checkbox", class: "pick", "data-index": String(i),
                                          onchange: countSelected })]),
      kefuEl("td", { class: "msg-text", "data-testid": "nlu-text", text: item.text }),
      kefuEl("td", { "data-testid": "nlu-count", text: String(item.count) }),
      kefuEl("td", { text: kefuLabel("lang", item.language) + " · " +
                            item.channels.map(function (c) { return kefuLabel("channel", c); }).join(", ") }),
      kefuEl("td", { text: item.reasons.map(function (r) { return t("nlu_reason_" + r); }).join(", ") }),
      kefuEl("td", {}, [ranked]),
      kefuEl("td", {}, [pick, kefuEl("button", { type: "button", class: "link", "data-testid": "nlu-oos",
        text: t("nlu_out_of_scope"), onclick: function () { annotate([decision(item, null)]); } })])
    ]);
  }

  function countSelected() { $("nlu-selected").textContent = String(document.querySelectorAll("#inbox .pick:checked").length); }

  function selectedItems() {
    return Array.prototype.map.call(document.querySelectorAll("#inbox .pick:checked"), function (box) {
      return state.items[Number(box.dataset.index)]; });
  }

  async function load() {
    var page = await kefuApi("GET", "/nlu/inbox?" + query());
    state.items = page.items;
    var table = $("inbox");
    table.innerHTML = "";
    table.appendChild(kefuEl("tr", {}, ["", "nlu_message", "nlu_count", "nlu_where", "nlu_why", "nlu_model_says",
                                        "nlu_decide"].map(function (k) { return kefuEl("th", { text: k ? t(k) : "" }); })));
    if (!page.items.length) table.appendChild(kefuEl("tr", {}, [kefuEl("td", { colspan: "7", class: "muted",
                                                                               text: t("nlu_empty") })]));
    page.items.forEach(function (item, i) { table.appendChild(row(item, i)); });
    $("nlu-total").textContent = String(page.total);
    kefuPager($("pager"), page, function (offset) { state.offset = offset; load(); });
    countSelected();
  }

  async function loadAnnotations() {
    var page = await kefuApi("GET", "/nlu/annotations?limit=20");
    var table = $("annotations");
    table.innerHTML = "";
    table.appendChild(kefuEl("tr", {}, ["nlu_message", "nlu_intent", "nlu_decision", "nlu_when"].map(function (k) {
      return kefuEl("th", { text: t(k) }); })));
    page.items.forEach(function (a) {
      table.appendChild(kefuEl("tr", { "data-testid": "nlu-annotation" }, [
        kefuEl("td", { text: a.text }), kefuEl("td", { text: a.intent }),
        kefuEl("td", { text: t("nlu_decision_" + a.decision) }), kefuEl("td", { text: kefuDate(a.annotated_at) })]));
    });
  }

  function trend(topic) {
    var arrow = topic.this_week > topic.last_week ? "↑" : topic.this_week < topic.last_week ? "↓" : "→";
    return tf("nlu_topic_trend", { now: topic.this_week, before: topic.last_week }) + " " + arrow;
  }

  async function loadTopics() {
    var params = $("language").value ? "?language=" + $("language").value : "";
    var body = await kefuApi("GET", "/nlu/topics" + params);
    var table = $("topics");
    table.innerHTML = "";
    table.appendChild(kefuEl("tr", {}, ["nlu_topic_size", "nlu_topic_examples", "nlu_topic_trend_head", "nlu_decide"].map(
      function (k) { return kefuEl("th", { text: t(k) }); })));
    if (!body.items.length) table.appendChild(kefuEl("tr", {}, [kefuEl("td", { colspan: "4", class: "muted",
                                                                                text: t("nlu_topics_empty") })]));
    body.items.forEach(function (topic) {
      var pick = intentSelect("");
      pick.addEventListener("change", function () {  // the whole group is one intent: annotate every text at once
        if (pick.value) annotate(topic.texts.map(function (text) {
          return { text: text, language: topic.language, intent: pick.value }; })).then(loadTopics);
      });
      table.appendChild(kefuEl("tr", { "data-testid": "nlu-topic" }, [
        kefuEl("td", { "data-testid": "nlu-topic-size",
                       text: tf("nlu_topic_size_value", { size: topic.size, distinct: topic.distinct }) }),
        kefuEl("td", {}, topic.examples.map(function (e) {
          return kefuEl("div", { class: "msg-text", text: e.text + (e.count > 1 ? " ×" + e.count : "") }); })),
        kefuEl("td", { "data-testid": "nlu-topic-trend", text: trend(topic) }),
        kefuEl("td", {}, [pick, kefuEl("a", { href: "/console/knowledge", text: t("nlu_topic_article") })])]));
    });
  }

  $("filters").addEventListener("submit", function (event) {
    event.preventDefault(); state.offset = 0; load(); loadTopics().catch(function () {});
  });
  $("bulk-apply").addEventListener("click", function () {
    var intent = $("bulk-intent").value, items = selectedItems();
    if (!intent || !items.length) { $("flash").textContent = t("nlu_pick_first"); return; }
    annotate(items.map(function (item) { return decision(item, intent); }));
  });
  $("bulk-oos").addEventListener("click", function () {
    var items = selectedItems();
    if (!items.length) { $("flash").textContent = t("nlu_pick_first"); return; }
    annotate(items.map(function (item) { return decision(item, null); }));
  });

  kefuApplyStrings();
  kefuApi("GET", "/nlu/intents").then(function (data) {
    state.intents = data.items;
    var bulk = $("bulk-intent");
    bulk.parentNode.replaceChild(Object.assign(intentSelect(""), { id: "bulk-intent" }), bulk);
    $("bulk-intent").setAttribute("data-testid", "nlu-bulk-intent");
    return load();
  }).catch(function (error) { $("flash").textContent = error.message; });
  loadAnnotations().catch(function () {});
  loadTopics().catch(function (error) { $("flash").textContent = error.message; });
})();
