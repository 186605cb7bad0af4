// Model versions (supervisors): train a candidate on the annotations, watch its progress, read the gate's
// before/after figures, promote it (an admin may override a refusal with a reason) or roll back in one click.
"use strict";
(function () {
  var $ = function (id) { return document.getElementById(id); };
  var role = $("models-page").dataset.role;
  var state = { offset: 0, limit: 20, page: null, shown: null, timer: null };
  var STAGES = ["preparing the training data", "evaluating the candidate and the serving model",
                "evaluating the serving model", "uploading the model", "starting", "ready", "cancelled"];

  function pct(x) { return (x * 100).toFixed(1) + "%"; }

  function stageText(stage) {
    var epoch = /^training epoch (\d+)\/(\d+)$/.exec(stage || "");
    if (epoch) return tf("models_stage_epoch", { n: epoch[1], total: epoch[2] });
    if (/^training /.test(stage || "")) return t("models_stage_training") + " " + stage.slice(9);
    var i = STAGES.indexOf(stage);
    return i >= 0 ? t("models_stage_" + i) : (stage || "");
  }

  function gateText(v) {
    if (!v.gate) return "—";
    if (v.gate.passed) return t("models_gate_passed");
    var reasons = kefuLang() === "zh" ? v.gate.reasons_zh : v.gate.reasons_en;
    return t("models_gate_refused") + ": " + reasons.join("; ");
  }

  async function act(method, path, body) {
    try {
      await kefuApi(method, path, body);
      $("flash").textContent = t("models_done");
    } catch (error) {
      $("flash").textContent = error.message;
    }
    await load();
  }

  function actions(v) {
    var out = [];
    if (v.status === "ready" && !v.serving && !v.served_before && v.source === "candidate") {
      out.push(kefuEl("button", { type: "button", "data-testid": "models-promote", text: t("models_promote"),
        onclick: function () { act("POST", "/models/" + v.id + "/promote", {}); } }));
    }
    if (v.served_before && !v.serving) {
      out.push(kefuEl("button", { type: "button", "data-testid": "models-rollback", text: t("models_rollback"),
        onclick: function () { act("POST", "/models/" + v.id + "/rollback"); } }));
    }
    if (v.evaluation) {
      out.push(kefuEl("button", { type: "button", class: "link", "data-testid": "models-show", text: t("models_figures"),
        onclick: function () { state.shown = v.id; details(v); } }));
    }
    return out;
  }

  function row(v) {
    var status = v.serving ? t("models_status_serving") : kefuLabel("model_status", v.status);
    if (v.status === "failed" && v.error) status += " (" + v.error.slice(0, 160) + ")";
    var accuracy = v.evaluation && v.evaluation.after ? pct(v.evaluation.after.accuracy) : "—";
    return kefuEl("tr", { "data-testid": "models-row", "data-version": String(v.id),
                          class: v.serving ? "on" : "" }, [
      kefuEl("td", { text: "v" + v.id }),
      kefuEl("td", { text: kefuLabel("model_source", v.source) }),
      kefuEl("td", { "data-testid": "models-status", text: status }),
      kefuEl("td", { text: kefuDate(v.created_at) }),
      kefuEl("td", { text: v.source === "candidate" ? String(v.annotations) + " / " + String(v.heldout_annotations) : "—" }),
      kefuEl("td", { text: v.train_seconds != null ? Math.round(v.train_seconds) + " s" : "—" }),
      kefuEl("td", { text: accuracy }),
      kefuEl("td", { "data-testid": "models-gate", text: gateText(v) }),
      kefuEl("td", {}, actions(v))
    ]);
  }

  function details(v) {
    var ev = v.evaluation, before = ev.before, after = ev.after;
    $("details").hidden = false;
    $("details-version").textContent = "v" + v.id + (before ? " ← v" + before.version_id : "");
    $("gate-verdict").textContent = gateText(v);
    var splits = $("splits");
    splits.innerHTML = "";
    splits.appendChild(kefuEl("tr", {}, ["models_split", "models_examples", "models_before", "models_after"].map(
      function (k) { return kefuEl("th", { text: t(k) }); })));
    [["overall", null], ["nlu_test", "nlu_test"], ["annotations", "annotations"]].forEach(function (pair) {
      var a = pair[1] ? after.splits[pair[1]] : { n: null, accuracy: after.accuracy };
      var b = before ? (pair[1] ? before.splits[pair[1]] : { accuracy: before.accuracy }) : null;
      splits.appendChild(kefuEl("tr", { "data-testid": "models-split" }, [
        kefuEl("td", { text: t("models_split_" + pair[0]) }), kefuEl("td", { text: a.n == null ? "" : String(a.n) }),
        kefuEl("td", { text: b && (a.n == null || a.n) ? pct(b.accuracy) : "—" }),
        kefuEl("td", { text: a.n == null || a.n ? pct(a.accuracy) : "—" })]));
    });
    var intents = $("intents");
    intents.innerHTML = "";
    intents.appendChild(kefuEl("tr", {}, ["nlu_intent", "models_support", "models_before", "models_after",
                                          "models_delta"].map(function (k) { return kefuEl("th", { text: t(k) }); })));
    Object.keys(after.per_intent).sort().forEach(function (name) {
      var a = after.per_intent[name], b = before && before.per_intent[name];
      var delta = b ? (a.f1 - b.f1) * 100 : null;
      intents.appendChild(kefuEl("tr", { "data-testid": "models-intent", class: delta != null && delta < -2 ? "bad" : "" }, [
        kefuEl("td", { text: name }), kefuEl("td", { text: String(a.support) }),
        kefuEl("td", { text: b ? b.f1.toFixed(3) : "—" }), kefuEl("td", { text: a.f1.toFixed(3) }),
        kefuEl("td", { text: delta == null ? "—" : (delta >= 0 ? "+" : "") + delta.toFixed(1) })]));
    });
    var changed = $("changed");
    changed.innerHTML = "";
    changed.appendChild(kefuEl("tr", {}, ["nlu_message", "models_expected", "models_before", "models_after"].map(
      function (k) { return kefuEl("th", { text: t(k) }); })));
    (ev.errors || []).forEach(function (e) {
      changed.appendChild(kefuEl("tr", { class: e.after === e.expected ? "good" : "bad" }, [
        kefuEl("td", { class: "msg-text", text: e.text }), kefuEl("td", { text: e.expected }),
        kefuEl("td", { text: e.before || "—" }), kefuEl("td", { text: e.after })]));
    });
    var refused = v.gate && !v.gate.passed && v.status === "ready" && !v.serving && !v.served_before;
    $("override").hidden = !(refused && role === "admin");
  }

  function renderRunning(page) {
    var running = page.items.filter(function (v) { return ["queued", "training", "evaluating"].indexOf(v.status) >= 0; })[0];
    $("running").hidden = !running;
    $("train").disabled = !!running;
    if (running) {
      $("progress").value = running.progress;
      $("stage").textContent = "v" + running.id + " · " + (running.status === "queued" ? t("models_queued")
                                                                                       : stageText(running.stage))
                               + " · " + Math.round(running.progress * 100) + "%";
      $("cancel").onclick = function () { act("POST", "/models/" + running.id + "/cancel"); };
    }
    clearTimeout(state.timer);
    if (running) state.timer = setTimeout(load, 2000);  // polls only while a training runs
  }

  function renderServing(page) {
    var current = page.items.filter(function (v) { return v.serving; })[0];
    var last = page.deployments[0];
    $("serving").textContent = current ? tf("models_serving_line", {
      version: "v" + current.id, source: kefuLabel("model_source", current.source),
      when: last ? kefuDate(last.at) : "", who: last && last.agent_name ? last.agent_name : t("models_system") })
      : (page.serving_id ? "v" + page.serving_id : t("models_none"));
  }

  function reasonText(d) {  // repo: the data fingerprint; rollback: the version left; override: the admin's words
    if (d.action === "repo") return tf("models_reason_repo", { fingerprint: d.reason || "" });
    if (d.action === "rollback" && d.reason) return tf("models_reason_rollback", { from: d.reason });
    return d.reason || "";
  }

  function renderHistory(page) {
    var table = $("history");
    table.innerHTML = "";
    table.appendChild(kefuEl("tr", {}, ["nlu_when", "models_version", "models_action", "models_who", "models_reason"].map(
      function (k) { return kefuEl("th", { text: t(k) }); })));
    page.deployments.forEach(function (d) {
      table.appendChild(kefuEl("tr", { "data-testid": "models-deployment" }, [
        kefuEl("td", { text: kefuDate(d.at) }), kefuEl("td", { text: "v" + d.version_id }),
        kefuEl("td", { text: kefuLabel("model_action", d.action) }),
        kefuEl("td", { text: d.agent_name || t("models_system") }), kefuEl("td", { text: reasonText(d) })]));
    });
  }

  async function load() {
    var page;
    try {
      page = await kefuApi("GET", "/models?limit=" + state.limit + "&offset=" + state.offset);
    } catch (error) {
      $("flash").textContent = error.message;
      return;
    }
    state.page = page;
    var table = $("versions");
    table.innerHTML = "";
    table.appendChild(kefuEl("tr", {}, ["models_version", "models_source", "models_status", "nlu_when",
                                        "models_annotations", "models_train_time", "models_accuracy", "models_gate",
                                        ""].map(function (k) { return kefuEl("th", { text: k ? t(k) : "" }); })));
    page.items.forEach(function (v) { table.appendChild(row(v)); });
    kefuPager($("pager"), page, function (offset) { state.offset = offset; load(); });
    renderServing(page);
    renderRunning(page);
    renderHistory(page);
    var shown = page.items.filter(function (v) { return v.id === state.shown; })[0];
    if (shown && shown.evaluation) details(shown);
  }

  $("train").addEventListener("click", function () { act("POST", "/models/trainings"); });
  $("override-go").addEventListener("click", function () {
    act("POST", "/models/" + state.shown + "/promote", { override_reason: $("override-reason").value });
  });
  kefuApplyStrings();
  load();
})();
