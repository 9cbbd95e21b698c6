// Tooltips and legend toggles for streamlab's SVG charts (inline in the HTML charts, served by the
// dashboard). No library, no network. Marks carry data-tip; legend entries data-symbol/data-hashtag.
(function () {
  "use strict";
  var tip = document.createElement("div");
  tip.className = "sl-tip";
  document.body.appendChild(tip);
  document.addEventListener("mousemove", function (e) {
    var el = e.target.closest ? e.target.closest("[data-tip]") : null;
    if (!el) { tip.style.display = "none"; return; }
    tip.textContent = el.getAttribute("data-tip");
    tip.style.display = "block";
    tip.style.left = (e.pageX + 12) + "px";
    tip.style.top = (e.pageY + 12) + "px";
  });
  document.addEventListener("click", function (e) {
    var entry = e.target.closest ? e.target.closest(".legend") : null;
    if (!entry) return;
    var attr = entry.hasAttribute("data-symbol") ? "data-symbol" : "data-hashtag";
    var key = entry.getAttribute(attr);
    var svg = entry.closest("svg");
    var hidden = entry.classList.toggle("off");
    svg.querySelectorAll(".series[" + attr + "]").forEach(function (s) {
      if (s.getAttribute(attr) === key) s.style.display = hidden ? "none" : "";
    });
  });
})();
