// Agent copilot in the console: the handoff summary, the top 3 suggested replies and the "/" canned-reply picker.
// Nothing here blocks the conversation view: each part loads on its own and is simply left out if it fails.
"use strict";
window.kefuCopilot = (function () {
  var $ = function (id) { return document.getElementById(id); };
  // `asked`: id of the customer's latest turn the summary and suggestions were loaded for.
  var state = { handoff: null, asked: null, inserted: null, canned: [], matches: [], pick: 0 };

  function pair(dl, key, value, testid) {
    dl.appendChild(kefuEl("dt", { text: t(key) }));
    dl.appendChild(kefuEl("dd", { "data-testid": testid, text: value }));
  }

  function renderSummary(s) {
    var box = $("summary");
    box.innerHTML = "";
    box.appendChild(kefuEl("h3", { text: t("summary") }));
    var dl = kefuEl("dl", {});
    pair(dl, "summary_reason", kefuLabel("escalation", s.reason_code) + (s.reason ? " · " + s.reason : ""),
         "summary-reason");
    if (s.customer) {
      var c = s.customer;
      pair(dl, "summary_customer", [c.name || "#" + c.id, kefuLabel("tier", c.tier), c.segment || "—"].join(" · "),
           "summary-customer");
      if (c.churn_level) {
        pair(dl, "summary_churn", kefuLabel("level", c.churn_level) + " (" + c.churn_score + ")" +
             (c.churn_reasons.length ? " · " + c.churn_reasons.join("; ") : ""), "summary-churn");
      }
    }
    var mood = t("mood_" + s.sentiment.direction);
    if (s.sentiment.first !== null && s.sentiment.scores.length > 1) mood += " (" + s.sentiment.first + " → " + s.sentiment.last + ")";
    pair(dl, "summary_mood", mood, "summary-mood");
    var got = s.collected;
    if (got.order_numbers.length) pair(dl, "summary_orders", got.order_numbers.join(", "), "summary-orders");
    if (got.category) pair(dl, "summary_category", kefuLabel("complaint_category", got.category), "summary-category");
    if (got.complaint) pair(dl, "summary_complaint", got.complaint, "summary-complaint");
    var tickets = got.tickets.concat(s.customer ? s.customer.open_tickets.filter(function (no) {
      return got.tickets.indexOf(no) < 0; }) : []);
    if (tickets.length) pair(dl, "summary_tickets", tickets.join(", "), "summary-tickets");
    box.appendChild(dl);
    if (s.key_turns.length) {
      box.appendChild(kefuEl("h4", { text: t("summary_turns") }));
      box.appendChild(kefuEl("ul", { class: "key-turns" }, s.key_turns.map(function (turn) {
        return kefuEl("li", { "data-testid": "summary-turn", class: turn.sentiment < 0 ? "negative" : "", text: turn.text });
      })));
    }
  }

  function insert(text, item) {
    var reply = $("reply");
    reply.value = text;
    reply.focus();
    state.inserted = item;
    var missing = item && item.missing && item.missing.length ? item.missing : [];
    $("flash").textContent = missing.length ? tf("missing_values", { names: missing.join(", ") }) : "";
  }

  function renderSuggestions(data) {
    var box = $("suggestions");
    box.innerHTML = "";
    box.hidden = !data.items.length;
    box.appendChild(kefuEl("div", { class: "small muted", text: t("suggestions") + " · " + t("suggestions_hint") }));
    data.items.forEach(function (item) {
      box.appendChild(kefuEl("button", { type: "button", class: "suggestion source-" + item.source,
        "data-testid": "suggestion", "data-source": item.source, title: item.title,
        onclick: function () { insert(item.text, item); } }, [
        kefuEl("span", { class: "badge", text: t("source_" + item.source) }),
        kefuEl("span", { class: "suggestion-text", text: item.text })
      ]));
    });
  }

  async function load(id, asked) {
    var summary = kefuApi("GET", "/handoffs/" + id + "/summary").then(function (s) {
      if (state.handoff === id) renderSummary(s);
    }).catch(function () {
      if (state.handoff === id) $("summary").textContent = t("summary_unavailable");
    });
    var suggestions = asked === null ? Promise.resolve() :
      kefuApi("GET", "/handoffs/" + id + "/suggestions").then(function (data) {
        if (state.handoff === id && state.asked === asked) renderSuggestions(data);  // the agent may have moved on
      }).catch(function () { $("suggestions").hidden = true; });
    var canned = kefuApi("GET", "/handoffs/" + id + "/canned").then(function (data) {
      if (state.handoff === id) state.canned = data.items;
    }).catch(function () {});
    await Promise.all([summary, suggestions, canned]);
  }

  // Called by the console each time it shows a conversation (also on every live update of it).
  function open(id, messages) {
    var users = messages.filter(function (m) { return m.role === "user"; });
    var asked = users.length ? users[users.length - 1].id : null;
    if (state.handoff === id && state.asked === asked) return;
    if (state.handoff !== id) {
      $("summary").innerHTML = "";
      $("suggestions").hidden = true;
      state.inserted = null;
      state.canned = [];
    }
    state.handoff = id;
    state.asked = asked;
    load(id, asked);
  }

  function close() { state.handoff = null; state.asked = null; state.inserted = null; hideSlash(); }

  // The agent sends `text`: if it came from a suggestion, say so (and whether they edited it) so ranking learns.
  function sent(text) {
    var item = state.inserted;
    state.inserted = null;
    if (!item || !item.source || state.handoff === null) return;
    kefuApi("POST", "/handoffs/" + state.handoff + "/suggestions/uses",
            { source: item.source, key: item.key || item.code, edited: text !== item.text.trim() }).catch(function () {});
  }

  function hideSlash() { var menu = $("slash-menu"); if (menu) menu.hidden = true; state.matches = []; }

  function showSlash(query) {
    var q = query.toLowerCase();
    state.matches = state.canned.filter(function (c) {
      return !q || c.title.toLowerCase().indexOf(q) >= 0 || c.code.indexOf(q) >= 0 || c.text.toLowerCase().indexOf(q) >= 0;
    });
    state.pick = 0;
    var menu = $("slash-menu");
    menu.innerHTML = "";
    if (!state.matches.length) menu.appendChild(kefuEl("li", { class: "muted", text: t("slash_empty") }));
    state.matches.forEach(function (c, i) {
      menu.appendChild(kefuEl("li", { "data-testid": "slash-item", class: i === 0 ? "on" : "",
        onmousedown: function (event) { event.preventDefault(); choose(i); } }, [
        kefuEl("strong", { text: "/" + c.code + " " + c.title }), kefuEl("span", { class: "muted", text: " " + c.text })
      ]));
    });
    menu.hidden = false;
  }

  function choose(i) {
    var c = state.matches[i];
    hideSlash();
    if (c) insert(c.text, { source: "canned", key: c.code, text: c.text, missing: c.missing });
  }

  function wire() {
    var reply = $("reply");
    reply.addEventListener("input", function () {
      var v = reply.value;
      if (v.charAt(0) === "/" && v.indexOf("\n") < 0) showSlash(v.slice(1).trim()); else hideSlash();
    });
    reply.addEventListener("keydown", function (event) {
      if ($("slash-menu").hidden) return;
      var items = $("slash-menu").querySelectorAll("[data-testid=slash-item]");
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        state.pick = (state.pick + (event.key === "ArrowDown" ? 1 : -1) + items.length) % Math.max(items.length, 1);
        items.forEach(function (el, i) { el.classList.toggle("on", i === state.pick); });
      } else if (event.key === "Enter" || event.key === "Tab") {
        event.preventDefault();
        choose(state.pick);
      } else if (event.key === "Escape") {
        hideSlash();
      }
    });
    reply.addEventListener("blur", function () { setTimeout(hideSlash, 150); });
  }

  return { open: open, close: close, sent: sent, wire: wire };
})();
