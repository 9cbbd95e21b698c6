// Polls /api/state every few seconds and redraws: the numbers here, the charts as SVG from the
// server (streamlab.charts.svg renders them; the same code as `streamlab chart --out x.html`).
(function () {
  "use strict";
  var refresh = parseInt(document.body.getAttribute("data-refresh-ms"), 10) || 3000;
  function $(id) { return document.getElementById(id); }
  function fmt(v) {
    if (v === null || v === undefined) return "-";
    var a = Math.abs(v);
    var digits = a >= 1000 ? 2 : a >= 1 ? 4 : 6;
    return v.toLocaleString("en-US", { maximumFractionDigits: digits });
  }
  function seconds(s) {
    if (s === null || s === undefined) return "-";
    return s < 120 ? s.toFixed(1) + " s" : s < 7200 ? (s / 60).toFixed(1) + " min" : s < 172800 ? (s / 3600).toFixed(1) + " h" : (s / 86400).toFixed(1) + " days";
  }
  function show(id, html) {
    var card = $(id + "-card");
    card.hidden = !html;
    if (html) $(id).innerHTML = html;
  }
  function tiles(prices) {
    var box = $("prices");
    box.hidden = prices.length === 0;
    box.textContent = "";
    prices.forEach(function (p) {
      var t = document.createElement("div");
      t.className = "tile-price";
      t.setAttribute("data-symbol", p.symbol);
      t.setAttribute("data-price", p.price);
      var cls = p.change >= 0 ? "up" : "down";
      var sign = p.change >= 0 ? "+" : "";
      t.innerHTML = '<div class="sym"></div><div class="px"></div><div class="chg ' + cls + '"></div>';
      t.querySelector(".sym").textContent = p.symbol;
      t.querySelector(".px").textContent = fmt(p.price);
      t.querySelector(".chg").textContent = sign + fmt(p.change) + " (" + sign + p.change_pct.toFixed(2) + "%) over " + p.trades + " trades";
      box.appendChild(t);
    });
  }
  function render(s) {
    $("path").textContent = s.path + " (" + s.dataset + ")";
    $("error").hidden = !s.error;
    $("error").textContent = s.error ? "reading failed: " + s.error : "";
    $("records").textContent = s.records.toLocaleString("en-US");
    $("rate").textContent = s.rate === null ? "-" : s.rate.toFixed(1);
    $("lag").textContent = seconds(s.lag_s);
    $("quarantined").textContent = s.quarantined.toLocaleString("en-US");
    $("quarantined").title = Object.keys(s.reasons).map(function (k) { return k + ": " + s.reasons[k]; }).join("\n");
    $("updated").textContent = new Date(s.now).toISOString().slice(11, 19) + " UTC";
    $("empty").hidden = s.dataset !== "empty";
    tiles(s.prices);
    show("candles", s.svg.candles);
    show("price", s.svg.price);
    show("units", s.svg.units);
    show("value", s.svg.value);
    $("value-total").textContent = s.value.rows.length ? "total $" + fmt(s.value.total) : "";
    show("hashtags", s.svg.hashtags);
    document.body.setAttribute("data-polls", s.polls);
  }
  function tick() {
    fetch("/api/state", { cache: "no-store" })
      .then(function (r) { return r.json(); })
      .then(render)
      .catch(function (e) { $("error").hidden = false; $("error").textContent = "dashboard unreachable: " + e; })
      .then(function () { setTimeout(tick, refresh); });
  }
  tick();
})();
