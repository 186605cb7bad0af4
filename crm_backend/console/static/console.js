// Agent console: live queue (SSE), conversation view, replies, notes, transfer, resolve, customer 360
// (the copilot's summary and suggestions are in copilot.js).
"use strict";
(function () {
  var me = JSON.parse(document.getElementById("kefu-agent").textContent);
  var state = { current: null, agents: [], canned: [], refreshing: false, gestureFor: null, gestureKey: null,
                flagged: {} };
  var $ = function (id) { return document.getElementById(id); };

  function since(iso) {
    var seconds = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
    return seconds < 60 ? Math.round(seconds) + t("seconds_short") : Math.round(seconds / 60) + " " + t("minutes");
  }
  // A response timer's countdown (ticked every second by tickTimers): remaining time, or how long overdue.
  function timerNode(timer, testid) {
    if (!timer) return null;
    return kefuEl("span", { class: "timer", "data-testid": testid, "data-due": timer.due_at, "data-kind": timer.kind });
  }
  function tickTimers() {
    document.querySelectorAll(".timer[data-due]").forEach(function (el) {
      var left = Math.round((Date.parse(el.dataset.due) - Date.now()) / 1000), abs = Math.abs(left);
      var clock = Math.floor(abs / 60) + ":" + String(abs % 60).padStart(2, "0");
      el.textContent = t("timer_" + el.dataset.kind) + " " + (left >= 0 ? clock : t("timer_overdue") + " +" + clock);
      el.classList.toggle("overdue", left < 0);
    });
  }
  function when(iso) { var d = new Date(iso); return d.toLocaleTimeString(kefuLang() === "zh" ? "zh-CN" : "en-GB"); }

  async function loadQueue() {
    var data = await kefuApi("GET", "/handoffs");
    var list = $("queue-list");
    list.innerHTML = "";
    if (!data.items.length) list.appendChild(kefuEl("li", { class: "empty", text: t("empty_queue") }));
    data.items.forEach(function (h) {
      var mine = h.assigned_agent_id === me.id;
      var item = kefuEl("li", {
        class: "queue-item prio-" + h.priority + (h.id === state.current ? " active" : "") + (mine ? " mine" : ""),
        "data-testid": "queue-item", "data-id": String(h.id), "data-conversation": h.conversation_id,
        onclick: function () { openConversation(h.id); }
      }, [
        kefuEl("div", { class: "row" }, [
          kefuEl("strong", { text: h.customer_name || t("anonymous") }),
          h.value_customer ? kefuEl("span", { class: "badge vip", text: t("value_customer") }) : null,
          kefuEl("span", { class: "badge prio", text: kefuLabel("priority", h.priority) }),
          timerNode(h.timer, "queue-timer")
        ]),
        kefuEl("div", { class: "row small" }, [
          kefuEl("span", { class: "status status-" + h.status, "data-testid": "queue-status",
                           text: kefuLabel("status", h.status) + (h.assigned_agent_name ? " · " + h.assigned_agent_name : "") }),
          kefuEl("span", { text: " · " + kefuLabel("channel", h.channel) + " · " + since(h.created_at) })
        ]),
        kefuEl("div", { class: "small muted", text: h.last_message || h.reason || "" })
      ]);
      list.appendChild(item);
    });
    $("queue-count").textContent = String(data.total);
    tickTimers();
  }

  function messageNode(m) {
    var children = [
      kefuEl("div", { class: "meta", text: t("role_" + m.role) + (m.agent_name ? " · " + m.agent_name : "") +
                                            " · " + when(m.created_at) }),
      kefuEl("div", { class: "text", text: m.text })
    ];
    if (m.role === "agent" && m.delivery && m.delivery !== "delivered") {
      var mark = kefuEl("div", { class: "delivery " + m.delivery, "data-testid": "delivery-mark",
                                 text: t({ recorded: "recorded", sending: "sending" }[m.delivery] || "not_delivered") });
      if (m.delivery === "pending") {
        mark.appendChild(kefuEl("button", { class: "link", "data-testid": "retry", text: t("retry"),
          onclick: function () { act("POST", "/handoffs/" + state.current + "/messages/" + m.id + "/retry"); } }));
      }
      children.push(mark);
    }
    if (m.role === "user") {  // the bot misread this: it goes to the supervisors' NLU inbox
      var flagged = !!state.flagged[m.id];
      var flag = kefuEl("button", { type: "button", class: "link flag", "data-testid": "flag-misunderstood",
        text: t(flagged ? "flagged_misunderstood" : "flag_misunderstood"),
        onclick: function (event) {
          var button = event.currentTarget;
          kefuApi("POST", "/nlu/flags", { handoff_id: state.current, message_id: m.id }).then(function () {
            state.flagged[m.id] = true;
            button.textContent = t("flagged_misunderstood");
            button.disabled = true;
          }).catch(function (error) { $("flash").textContent = error.message; });
        } });
      flag.disabled = flagged;
      children.push(flag);
    }
    return kefuEl("li", { class: "msg role-" + m.role, "data-testid": "msg-" + m.role, "data-id": String(m.id) },
                  children);
  }

  function renderCustomer(c) {
    var box = $("customer360");
    box.innerHTML = "";
    if (!c) { box.appendChild(kefuEl("p", { class: "muted", text: t("anonymous") })); return; }
    var dl = kefuEl("dl", {});
    function pair(key, value) {
      dl.appendChild(kefuEl("dt", { text: t(key) }));
      dl.appendChild(kefuEl("dd", { "data-testid": "c360-" + key, text: value === null || value === undefined ? "—" : String(value) }));
    }
    box.appendChild(kefuEl("h3", { "data-testid": "c360-name", text: c.name || ("#" + c.id) }));
    pair("tier", kefuLabel("tier", c.tier)); pair("points", c.points); pair("segment", c.segment);
    pair("satisfaction", c.satisfaction);
    pair("churn", c.churn_risk ? (kefuLabel("level", c.churn_risk.level) + " (" + c.churn_risk.score + ")") : null);
    box.appendChild(dl);
    if (c.churn_risk && c.churn_risk.reasons && c.churn_risk.reasons.length) {
      box.appendChild(kefuEl("ul", { class: "reasons" }, c.churn_risk.reasons.map(function (r) {
        return kefuEl("li", { text: r }); })));
    }
    box.appendChild(kefuEl("h4", { text: t("open_tickets") }));
    box.appendChild(kefuEl("ul", { "data-testid": "c360-tickets" }, (c.open_tickets || []).map(function (tk) {
      return kefuEl("li", { text: tk.ticket_no + " · " + (tk.category || "") + " · " + kefuLabel("ticket", tk.status) + " " + (tk.summary || "") });
    })));
    box.appendChild(kefuEl("h4", { text: t("recent_orders") }));
    box.appendChild(kefuEl("ul", { "data-testid": "c360-orders" }, (c.recent_orders || []).map(function (o) {
      return kefuEl("li", { text: o.order_no + " · " + kefuLabel("order", o.status) + " · " + o.total + " " + (o.currency || "") });
    })));
  }

  async function openConversation(id) {
    state.current = id;
    var data = await kefuApi("GET", "/handoffs/" + id);
    var h = data.handoff;
    $("conversation").hidden = false;
    $("placeholder").hidden = true;
    $("conv-title").textContent = (h.customer_name || t("anonymous")) + " · " + kefuLabel("channel", h.channel) + " · " + h.conversation_id;
    $("conv-reason").textContent = t("reason") + ": " + (h.reason || h.reason_code || "—");
    $("conv-status").textContent = kefuLabel("status", h.status) + (h.assigned_agent_name ? " · " + h.assigned_agent_name : "");
    $("conv-ticket").textContent = h.ticket_no ? t("ticket") + " " + h.ticket_no : "";
    $("conv-seen").textContent = h.customer_last_seen_at ? t("customer_seen") + ": " + since(h.customer_last_seen_at) : "";
    $("conv-timer").innerHTML = "";
    if (h.timer) $("conv-timer").appendChild(timerNode(h.timer, "conv-timer-clock"));
    tickTimers();
    var holder = h.assigned_agent_id === me.id || me.supervisor;
    var closed = isClosed(h);
    $("btn-claim").hidden = h.status !== "waiting";
    $("btn-resolve").hidden = closed || !holder || h.status === "waiting";
    $("composer").hidden = closed || !holder || h.status === "waiting";
    $("transfer-box").hidden = closed || !holder;
    var list = $("transcript");
    list.innerHTML = "";
    data.messages.filter(function (m) { return m.role !== "system"; }).forEach(function (m) {
      list.appendChild(messageNode(m)); });
    list.scrollTop = list.scrollHeight;
    renderCustomer(data.customer);
    kefuCopilot.open(id, data.messages);
    loadGestureLimit(h, holder).catch(function () {});
    document.querySelectorAll(".queue-item").forEach(function (el) {
      el.classList.toggle("active", el.dataset.id === String(id)); });
  }

  // Resolved by an agent, or abandoned: the customer went silent while waiting and the bot took over.
  function isClosed(h) { return h.status === "resolved" || h.status === "abandoned"; }

  // Goodwill points: the form shows the agent's limit for this customer; one key per grant, so a
  // double-click (or a retry after a network error) grants once.
  async function loadGestureLimit(h, holder) {
    var form = $("gesture-form");
    var show = holder && !isClosed(h) && h.customer_id !== null;
    if (!show) { form.hidden = true; state.gestureFor = null; return; }
    if (state.gestureFor === h.id && !form.hidden) return;
    var limit = await kefuApi("GET", "/handoffs/" + h.id + "/gestures");
    state.gestureFor = h.id;
    state.gestureKey = state.gestureKey || newKey();
    $("gesture-limit").textContent = tf("gesture_limit", { limit: limit.limit, tier: kefuLabel("tier", limit.tier) });
    // Points, or a coupon of the catalogue priced within the limit (it counts at its price in points).
    var kind = $("gesture-kind");
    kind.replaceChildren(new Option(t("gesture_kind_points"), ""));
    (limit.coupons || []).forEach(function (c) {
      kind.appendChild(new Option((kefuLang() === "zh" ? c.name_zh : c.name_en) + " (" + c.value_points + ")", c.code));
    });
    kind.value = "";
    $("gesture-points").hidden = false;
    form.hidden = false;
  }
  function newKey() {
    return window.crypto && crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random().toString(16).slice(2);
  }

  async function act(method, path, body) {
    try {
      var result = await kefuApi(method, path, body);
      $("flash").textContent = "";
      return result;
    } catch (error) {
      $("flash").textContent = error.message;
      throw error;
    } finally {
      await refresh();
    }
  }

  function closeConversation() {
    state.current = null;
    kefuCopilot.close();
    $("conversation").hidden = true;
    $("placeholder").hidden = false;
    $("customer360").innerHTML = "";
  }

  async function refresh() {
    await loadQueue();
    if (!state.current) return;
    try {
      await openConversation(state.current);
    } catch (error) {  // transferred away or gone: no longer ours to see
      if (error.status === 403 || error.status === 404) closeConversation(); else throw error;
    }
  }

  async function loadAgents() {
    var data = await kefuApi("GET", "/console/agents");
    state.agents = data.items;
    var select = $("transfer-target");
    select.innerHTML = "";
    select.appendChild(kefuEl("option", { value: "", text: t("transfer") + "…" }));
    select.appendChild(kefuEl("option", { value: "supervisor", text: t("to_supervisor") }));
    select.appendChild(kefuEl("option", { value: "queue", text: t("to_queue") }));
    data.items.filter(function (a) { return a.id !== me.id; }).forEach(function (a) {
      select.appendChild(kefuEl("option", { value: String(a.id),
        text: a.display_name + (a.online ? " ●" : " ○") + " (" + a.load + ")" }));
    });
  }

  async function loadCanned() {
    var data = await kefuApi("GET", "/console/canned?lang=" + kefuLang());
    var select = $("canned");
    select.innerHTML = "";
    select.appendChild(kefuEl("option", { value: "", text: t("canned") + "…" }));
    data.items.forEach(function (c) { select.appendChild(kefuEl("option", { value: c.text, text: c.title })); });
  }

  function wire() {
    $("btn-claim").addEventListener("click", function () {
      act("POST", "/handoffs/" + state.current + "/claim").catch(function () {}); });
    $("btn-resolve").addEventListener("click", function () {
      act("POST", "/handoffs/" + state.current + "/resolve").catch(function () {}); });
    $("composer").addEventListener("submit", function (event) {
      event.preventDefault();
      var text = $("reply").value.trim();
      if (!text) return;
      var asNote = $("as-note").checked;
      $("reply").value = "";
      if (!asNote) kefuCopilot.sent(text);
      act("POST", "/handoffs/" + state.current + (asNote ? "/notes" : "/messages"), { text: text }).catch(function () {});
    });
    $("as-note").addEventListener("change", function () {
      $("reply").placeholder = t(this.checked ? "note_placeholder" : "reply_placeholder");
      $("btn-send").textContent = t(this.checked ? "send_note" : "send");
    });
    $("canned").addEventListener("change", function () { if (this.value) $("reply").value = this.value; this.value = ""; });
    $("transfer-target").addEventListener("change", function () {
      var v = this.value; this.value = "";
      if (!v) return;
      var body = v === "supervisor" ? { to_supervisor: true } : v === "queue" ? { to_queue: true } : { agent_id: Number(v) };
      act("POST", "/handoffs/" + state.current + "/transfer", body).catch(function () {});
    });
    $("gesture-kind").addEventListener("change", function () {
      $("gesture-points").hidden = Boolean($("gesture-kind").value);  // a coupon has its own value
      state.gestureKey = newKey();
    });
    $("gesture-form").addEventListener("submit", function (event) {
      event.preventDefault();
      var coupon = $("gesture-kind").value, points = Number($("gesture-points").value);
      var reason = $("gesture-reason").value.trim();
      if ((!coupon && !(points >= 1)) || reason.length < 2) { $("flash").textContent = t("gesture_fill"); return; }
      var key = state.gestureKey || (state.gestureKey = newKey());
      var body = coupon ? { reward_code: coupon, reason: reason } : { points: points, reason: reason };
      kefuApi("POST", "/handoffs/" + state.current + "/gestures", body,
              { "Idempotency-Key": key }).then(function (granted) {
        state.gestureKey = newKey();  // the next grant is a new one
        $("gesture-points").value = ""; $("gesture-reason").value = "";
        $("flash").textContent = granted.coupon
          ? tf("gesture_coupon_done", { coupon: kefuLang() === "zh" ? granted.coupon.name_zh : granted.coupon.name_en,
                                        value: granted.value_points })
          : tf("gesture_done", { points: granted.points, balance: granted.balance_after });
      }).catch(function (error) {
        if (error.status === 422 || error.status === 409) state.gestureKey = newKey();  // refused: nothing was granted
        $("flash").textContent = error.message;
      });
    });
    $("ticket-form").addEventListener("submit", function (event) {
      event.preventDefault();
      var no = $("ticket-no").value.trim();
      act("POST", "/handoffs/" + state.current + "/ticket", no ? { ticket_no: no } : { create: true }).catch(function () {});
      $("ticket-no").value = "";
    });
    $("agent-status").addEventListener("change", function () {
      kefuApi("POST", "/console/heartbeat", { status: this.value }); });
    var auto = $("auto-assign");
    if (auto) {
      kefuApi("GET", "/console/settings").then(function (s) { auto.checked = s.auto_assign; $("capacity").value = s.capacity; });
      $("settings-form").addEventListener("change", function () {
        var capacity = Number($("capacity").value);
        var body = { auto_assign: auto.checked };
        if (capacity >= 1) body.capacity = capacity;
        kefuApi("PUT", "/console/settings", body).catch(function (error) { $("flash").textContent = error.message; });
      });
    }
  }

  // Supervisors: response timers that ran out in the last hour, newest first (pushed by the "breach" event).
  async function loadBreaches() {
    var box = $("breaches");
    if (!box || !me.supervisor) return;
    var data = await kefuApi("GET", "/console/breaches?minutes=60");
    var list = $("breach-list");
    list.innerHTML = "";
    box.classList.toggle("alerting", data.items.length > 0);
    if (!data.items.length) list.appendChild(kefuEl("li", { class: "muted", text: t("no_breaches") }));
    data.items.forEach(function (b) {
      list.appendChild(kefuEl("li", { "data-testid": "breach", class: "breach",
        onclick: function () { openConversation(b.handoff_id).catch(function () {}); } }, [
        kefuEl("strong", { text: b.customer_name || t("anonymous") }),
        kefuEl("span", { text: " · " + t("breach_" + b.kind) + " · " + kefuLabel("priority", b.priority) + " · " +
                               when(b.breached_at) })]));
    });
  }

  function live() {
    var source = new EventSource("/api/v1/console/events");
    source.addEventListener("handoff", function (event) {
      var data = JSON.parse(event.data);
      if (state.current && data.handoff_id === state.current) refresh().catch(function () {});
      else loadQueue();
      if (data.type === "agents") loadAgents();
      if (data.type === "breach") loadBreaches().catch(function () {});
    });
    source.addEventListener("open", function () { $("live").classList.add("on"); });
    source.addEventListener("error", function () { $("live").classList.remove("on"); });
  }

  kefuApplyStrings();
  wire();
  kefuCopilot.wire();
  loadQueue(); loadAgents(); loadCanned(); loadBreaches().catch(function () {}); live();
  setInterval(tickTimers, 1000);
  kefuApi("POST", "/console/heartbeat", { status: "online" });
  setInterval(function () { kefuApi("POST", "/console/heartbeat", { status: $("agent-status").value }).catch(function () {}); }, 20000);
  setInterval(function () { loadQueue().catch(function () {}); }, 30000);  // waiting times tick; SSE does the rest
})();
