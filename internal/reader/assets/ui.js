// ferry's only script, and an optional one: everything works without it.
// It adds title suggestions to the search box and the Esc-twice hide.
(function () {
  "use strict";
  // Hide: replace this page in the window's history by a blank page, so
  // that Back does not bring the content back.
  function hide(ev) {
    if (ev) { ev.preventDefault(); }
    try { document.body.innerHTML = ""; document.title = "about:blank"; } catch (e) {}
    try { history.replaceState(null, "", "/hide"); } catch (e) {}
    location.replace("/hide");
  }
  var lastEsc = 0;
  document.addEventListener("keydown", function (ev) {
    if (ev.key !== "Escape" && ev.keyCode !== 27) { return; }
    var now = Date.now();
    if (now - lastEsc < 1000) { hide(ev); }
    lastEsc = now;
  }, true);
  // On an archive page this script comes right before ferry's bar: find
  // the bar's parts inside it, so that an element of the page with the same
  // id cannot take the hide button's place.
  var me = document.currentScript, bar = null;
  if (me && me.nextElementSibling && me.nextElementSibling.id === "ferry-bar") { bar = me.nextElementSibling; }
  function part(id) { return bar ? bar.querySelector("#" + id) : document.getElementById(id); }
  function ready() {
    var btn = part("ferry-hide");
    if (btn) { btn.addEventListener("click", hide); }
    var box = part("fb-q");
    var list = part("fb-suggest");
    if (!box || !list || !window.fetch) { return; }
    var timer = 0, seq = 0;
    function close() { list.hidden = true; list.textContent = ""; }
    box.addEventListener("input", function () {
      clearTimeout(timer);
      var q = box.value.trim();
      if (!q) { close(); return; }
      timer = setTimeout(function () {
        var my = ++seq;
        var url = (box.getAttribute("data-prefix") || "") + "/suggest?q=" + encodeURIComponent(q);
        if (box.getAttribute("data-in")) { url += "&in=" + encodeURIComponent(box.getAttribute("data-in")); }
        fetch(url, { credentials: "omit", cache: "no-store" }).then(function (r) { return r.json(); }).then(function (items) {
          if (my !== seq) { return; }
          list.textContent = "";
          items.forEach(function (it) {
            var li = document.createElement("li"), a = document.createElement("a"), s = document.createElement("small");
            a.href = it.url; a.textContent = it.title; s.textContent = it.from;
            a.appendChild(s); li.appendChild(a); list.appendChild(li);
          });
          list.hidden = items.length === 0;
        }).catch(close);
      }, 120);
    });
    box.addEventListener("keydown", function (ev) {
      if (ev.key === "ArrowDown" && !list.hidden && list.firstChild) {
        ev.preventDefault(); list.firstChild.firstChild.focus();
      }
    });
    list.addEventListener("keydown", function (ev) {
      var li = document.activeElement && document.activeElement.parentNode;
      if (ev.key === "ArrowDown" && li && li.nextSibling) { ev.preventDefault(); li.nextSibling.firstChild.focus(); }
      if (ev.key === "ArrowUp" && li) { ev.preventDefault(); (li.previousSibling ? li.previousSibling.firstChild : box).focus(); }
    });
    document.addEventListener("click", function (ev) { if (!list.contains(ev.target) && ev.target !== box) { close(); } });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", ready); } else { ready(); }
})();
