/* Kefu chat widget — embed with one tag:
 *   <script src="https://crm.example.com/widget/kefu-widget.js" data-server="https://bot.example.com"
 *           data-customer-token="<signed JWT, optional>" data-lang="auto" async></script>
 * A signed-in visitor (customer token) also gets the messages playbooks left for their next visit, from
 * `GET <crm>/api/v1/widget/outreach` (the CRM is where this script came from, or `data-crm`); an anonymous
 * visitor asks for nothing, so no account data reaches an unverified visitor.
 * Talks socket.io to Rasa (bot/channels/socketio_redis.py). History survives reloads: the session id and
 * the rendered messages are kept in localStorage per visitor identity, and Rasa keeps the conversation
 * (session_persistence). `KefuIO` is the bundled socket.io client (see router.py).
 */
/* global KefuIO */
(function () {
  "use strict";
  var script = document.currentScript || document.querySelector("script[src*='kefu-widget']");
  if (!script || window.__kefuWidgetLoaded) { return; }
  window.__kefuWidgetLoaded = true;

  var STRINGS = {
    zh: {
      open: "打开在线客服", close: "关闭聊天窗口", title: "在线客服", subtitle: "智能助手 · 可转人工",
      placeholder: "输入您的问题…", send: "发送", input: "消息内容", typing: "客服正在输入…",
      log: "聊天记录", you: "您", bot: "客服", offline: "连接中断，正在重连…", online: "已连接",
      tooLong: "消息太长了，请分几次发送。", error: "消息发送失败，请稍后再试。",
      welcome: "您好！我是智能客服，可以帮您查询订单、积分、会员权益，或为您转接人工客服。",
      quick: "快捷回复", loggedIn: "已登录会员", newTab: "（在新窗口打开）",
      unread: function (n) { return "打开在线客服（" + n + " 条新消息）"; }
    },
    en: {
      open: "Open customer service chat", close: "Close chat", title: "Customer service",
      subtitle: "Assistant · humans on request", placeholder: "Type your question…", send: "Send",
      input: "Message", typing: "Agent is typing…", log: "Conversation", you: "You", bot: "Agent",
      offline: "Connection lost, reconnecting…", online: "Connected",
      tooLong: "That message is too long — please split it up.", error: "Sending failed, please try again.",
      welcome: "Hello! I can help with orders, points and membership, or connect you with a person.",
      quick: "Quick replies", loggedIn: "Signed-in member", newTab: "(opens in a new window)",
      unread: function (n) { return "Open customer service chat (" + n + (n === 1 ? " new message)" : " new messages)"); }
    }
  };
  var MAX_STORED = 200;
  var TYPING_TIMEOUT_MS = 20000;

  function attr(name, fallback) {
    var value = script.getAttribute("data-" + name);
    return value === null || value === "" ? fallback : value;
  }

  function pickLanguage() {
    var wanted = attr("lang", "auto");
    if (wanted === "auto") {
      wanted = document.documentElement.getAttribute("lang") || (navigator.languages && navigator.languages[0]) ||
        navigator.language || "en";
    }
    return /^zh/i.test(wanted) ? "zh" : "en";
  }

  // The storage key follows the visitor identity (token subject), so a login/logout starts a new conversation.
  function identityOf(token) {
    if (!token) { return "anon"; }
    try {
      var part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      return "c" + String(JSON.parse(atob(part)).sub);
    } catch (e) { return "token"; }
  }

  var lang = pickLanguage();
  var t = STRINGS[lang];
  var server = attr("server", window.location.origin);
  var socketPath = attr("socket-path", "/socket.io");
  var token = attr("customer-token", null);
  var storageKey = "kefu.widget.v1." + identityOf(token);
  var scriptBase = script.src.replace(/[^/]*$/, "");
  var crmBase = attr("crm", scriptBase.replace(/\/widget\/$/, "")).replace(/\/$/, "");

  var state = loadState();
  var socket = null;
  var typingTimer = null;
  var ready = false; // true between session_confirm and disconnect
  var outbox = []; // messages typed before the session is confirmed
  var els = {};

  function loadState() {
    try {
      var saved = JSON.parse(window.localStorage.getItem(storageKey) || "null");
      if (saved && typeof saved === "object" && Array.isArray(saved.messages)) { return saved; }
    } catch (e) { /* storage disabled or corrupt: start fresh */ }
    return { sessionId: null, messages: [], open: false };
  }

  function saveState() {
    state.messages = state.messages.slice(-MAX_STORED);
    try { window.localStorage.setItem(storageKey, JSON.stringify(state)); } catch (e) { /* private mode */ }
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) { node.setAttribute(key, attrs[key]); });
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  // Text with clickable links: markdown [label](url) and bare http(s) URLs. Built with DOM nodes, never innerHTML.
  function renderText(container, text) {
    var pattern = /\[([^\]]+)\]\((https?:\/\/[^\s)]+)\)|(https?:\/\/[^\s<>"')\]]+)/g;
    var last = 0;
    var match;
    while ((match = pattern.exec(text)) !== null) {
      if (match.index > last) { container.appendChild(document.createTextNode(text.slice(last, match.index))); }
      var url = match[2] || match[3];
      var link = el("a", { href: url, target: "_blank", rel: "noopener noreferrer", "class": "kefu-link" },
        match[1] || url);
      link.appendChild(el("span", { "class": "kefu-sr-only" }, " " + t.newTab));
      container.appendChild(link);
      last = match.index + match[0].length;
    }
    if (last < text.length) { container.appendChild(document.createTextNode(text.slice(last))); }
  }

  function build() {
    var root = el("div", { "class": "kefu-widget", lang: lang === "zh" ? "zh-CN" : "en" });
    els.launcher = el("button", { type: "button", "class": "kefu-launcher", "aria-label": t.open,
      "aria-expanded": "false", "aria-controls": "kefu-panel" });
    els.launcher.appendChild(el("span", { "aria-hidden": "true", "class": "kefu-launcher-icon" }, "💬"));
    els.launcher.appendChild(el("span", { "class": "kefu-launcher-text" }, t.title));
    els.badge = el("span", { "class": "kefu-badge", "aria-hidden": "true", hidden: "" });
    els.launcher.appendChild(els.badge);

    els.panel = el("section", { id: "kefu-panel", "class": "kefu-panel", role: "dialog", "aria-modal": "false",
      "aria-labelledby": "kefu-title", hidden: "" });
    var header = el("header", { "class": "kefu-header" });
    var heading = el("div", { "class": "kefu-heading" });
    heading.appendChild(el("h2", { id: "kefu-title", "class": "kefu-title" }, t.title));
    heading.appendChild(el("p", { "class": "kefu-subtitle" }, token ? t.loggedIn + " · " + t.subtitle : t.subtitle));
    header.appendChild(heading);
    els.close = el("button", { type: "button", "class": "kefu-close", "aria-label": t.close }, "×");
    header.appendChild(els.close);

    els.status = el("p", { "class": "kefu-status", role: "status", "aria-live": "polite" });
    els.log = el("ol", { "class": "kefu-log", role: "log", "aria-live": "polite", "aria-label": t.log,
      tabindex: "0" });
    els.typing = el("p", { "class": "kefu-typing", "aria-live": "polite", hidden: "" });
    els.typing.appendChild(el("span", { "class": "kefu-dots", "aria-hidden": "true" }, "● ● ●"));
    els.typing.appendChild(el("span", { "class": "kefu-typing-text" }, t.typing));

    els.form = el("form", { "class": "kefu-form" });
    var label = el("label", { "for": "kefu-input", "class": "kefu-sr-only" }, t.input);
    els.input = el("textarea", { id: "kefu-input", "class": "kefu-input", rows: "1", maxlength: "2000",
      placeholder: t.placeholder, autocomplete: "off", enterkeyhint: "send" });
    els.send = el("button", { type: "submit", "class": "kefu-send" }, t.send);
    els.form.appendChild(label);
    els.form.appendChild(els.input);
    els.form.appendChild(els.send);

    els.panel.appendChild(header);
    els.panel.appendChild(els.status);
    els.panel.appendChild(els.log);
    els.panel.appendChild(els.typing);
    els.panel.appendChild(els.form);
    root.appendChild(els.panel);
    root.appendChild(els.launcher);
    document.body.appendChild(root);

    els.launcher.addEventListener("click", function () { setOpen(els.panel.hidden); });
    els.close.addEventListener("click", function () { setOpen(false); els.launcher.focus(); });
    els.panel.addEventListener("keydown", function (event) {
      if (event.key === "Escape") { setOpen(false); els.launcher.focus(); }
    });
    els.input.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        submit();
      }
    });
    els.form.addEventListener("submit", function (event) { event.preventDefault(); submit(); });
  }

  function setOpen(open) {
    els.panel.hidden = !open;
    els.launcher.setAttribute("aria-expanded", String(open));
    els.launcher.classList.toggle("kefu-launcher-open", open);
    state.open = open;
    saveState();
    if (open) { setUnread(0); }
    if (open) {
      connect();
      els.input.focus();
      scrollDown();
    }
  }

  function scrollDown() { els.log.scrollTop = els.log.scrollHeight; }

  function addMessage(message, store) {
    var item = el("li", { "class": "kefu-msg kefu-msg-" + message.role });
    item.appendChild(el("span", { "class": "kefu-sr-only" }, (message.role === "user" ? t.you : t.bot) + ": "));
    var bubble = el("div", { "class": "kefu-bubble" });
    renderText(bubble, message.text || "");
    item.appendChild(bubble);
    if (message.buttons && message.buttons.length) {
      var group = el("div", { "class": "kefu-quick", role: "group", "aria-label": t.quick });
      message.buttons.forEach(function (button) {
        var b = el("button", { type: "button", "class": "kefu-quick-reply" }, button.title);
        b.disabled = Boolean(message.buttonsUsed);
        b.addEventListener("click", function () {
          disableQuickReplies();
          send(button.payload, button.title);
        });
        group.appendChild(b);
      });
      item.appendChild(group);
    }
    els.log.appendChild(item);
    if (store) {
      state.messages.push(message);
      saveState();
    }
    scrollDown();
  }

  function disableQuickReplies() {
    var buttons = els.log.querySelectorAll(".kefu-quick-reply");
    Array.prototype.forEach.call(buttons, function (b) { b.disabled = true; });
    state.messages.forEach(function (m) { if (m.buttons) { m.buttonsUsed = true; } });
  }

  function setTyping(on) {
    els.typing.hidden = !on;
    if (typingTimer) { clearTimeout(typingTimer); typingTimer = null; }
    if (on) { typingTimer = setTimeout(function () { setTyping(false); }, TYPING_TIMEOUT_MS); }
  }

  function submit() {
    var text = els.input.value.trim();
    if (!text) { return; }
    els.input.value = "";
    send(text, text);
  }

  function send(payload, shown) {
    connect();
    disableQuickReplies();
    addMessage({ role: "user", text: shown, at: Date.now() }, true);
    var metadata = { language: lang };
    if (token) { metadata.customer_token = token; }
    outbox.push({ message: payload, metadata: metadata });
    flush();
    setTyping(true);
  }

  // socket.io sends buffered events before the connect handler runs, so wait for our own session confirmation.
  function flush() {
    while (ready && outbox.length) {
      var item = outbox.shift();
      socket.emit("user_uttered", { message: item.message, session_id: state.sessionId, metadata: item.metadata });
    }
  }

  function onBotMessage(data) {
    if (!data || typeof data !== "object") { return; }
    var text = data.text || "";
    if (!text && data.attachment && data.attachment.payload && data.attachment.payload.src) {
      text = data.attachment.payload.src;
    }
    var buttons = (data.quick_replies || data.buttons || []).filter(function (b) { return b && b.title; })
      .map(function (b) { return { title: String(b.title), payload: String(b.payload || b.title) }; });
    if (!text && !buttons.length) { return; }
    setTyping(false);
    addMessage({ role: "bot", text: text, buttons: buttons, at: Date.now() }, true);
  }

  function connect() {
    if (socket) { return; }
    // tryAllTransports: where a proxy refuses WebSocket upgrades, fall back to long-polling (socket.io 4.8
    // otherwise retries WebSocket forever).
    socket = KefuIO(server, { path: socketPath, transports: ["websocket", "polling"], tryAllTransports: true,
                              reconnectionDelayMax: 5000 });
    socket.on("connect", function () {
      els.status.textContent = "";
      els.panel.classList.remove("kefu-offline");
      socket.emit("session_request", { session_id: state.sessionId });
    });
    socket.on("session_confirm", function (sessionId) {
      var id = typeof sessionId === "string" ? sessionId : (sessionId && sessionId.session_id);
      if (state.sessionId && state.sessionId !== id) {
        state.messages = [];
        els.log.textContent = "";
      }
      state.sessionId = id;
      saveState();
      if (!state.messages.length) { addMessage({ role: "bot", text: t.welcome, at: Date.now() }, true); }
      els.panel.setAttribute("data-session", id);
      ready = true;
      flush();
    });
    socket.on("bot_uttered", onBotMessage);
    socket.on("error", function (data) {
      setTyping(false);
      addMessage({ role: "bot", text: data && data.code === "payload_too_large" ? t.tooLong : t.error }, false);
    });
    function offline() {
      ready = false;
      els.status.textContent = t.offline;
      els.panel.classList.add("kefu-offline");
    }
    socket.on("disconnect", offline);
    socket.on("connect_error", offline); // server down or unreachable: say so; typed messages stay queued
  }

  function setUnread(count) {
    els.badge.hidden = count === 0;
    els.badge.textContent = count ? String(count) : "";
    els.launcher.setAttribute("aria-label", count ? t.unread(count) : t.open);
  }

  // Each waiting message is handed out once by the CRM, so it is stored in the conversation right away.
  function fetchOutreach() {
    if (!token || !window.fetch) { return; }
    window.fetch(crmBase + "/api/v1/widget/outreach", {
      headers: { "X-Customer-Token": token, "Accept-Language": lang === "zh" ? "zh-CN" : "en" }
    }).then(function (response) {
      return response.ok ? response.json() : [];
    }).then(function (items) {
      var shown = 0;
      (Array.isArray(items) ? items : []).forEach(function (item) {
        if (item && typeof item.text === "string" && item.text) {
          addMessage({ role: "bot", text: item.text, outreach: item.id, at: Date.now() }, true);
          shown += 1;
        }
      });
      if (shown && els.panel.hidden) { setUnread(shown); }
    }).catch(function () { /* CRM unreachable: the messages stay waiting for the next visit */ });
  }

  function loadCss() {
    var href = attr("css", scriptBase + "kefu-widget.css");
    if (document.querySelector("link[data-kefu-css]")) { return; }
    var link = el("link", { rel: "stylesheet", href: href, "data-kefu-css": "" });
    document.head.appendChild(link);
  }

  function start() {
    loadCss();
    build();
    state.messages.forEach(function (message) { addMessage(message, false); });
    if (state.open || attr("open", "false") === "true") { setOpen(true); }
    fetchOutreach();
    window.KefuWidget = {
      open: function () { setOpen(true); },
      close: function () { setOpen(false); },
      send: function (text) { send(text, text); },
      language: lang,
      sessionId: function () { return state.sessionId; }
    };
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
