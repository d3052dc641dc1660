/* The affiliate commission report's charts (SPEC A-9). No inline scripts (CSP): the data and
   its labels, already translated, come from the "aff-chart" json_script tag; every chart has
   its figures as a table in the page. */
(function () {
  "use strict";
  var palette = { blue: "#3b82f6", green: "#16a34a", rose: "#e11d48", amber: "#d97706", grid: "rgba(15,23,42,.06)", ink: "#475569" };

  function readJSON(id) {
    var el = document.getElementById(id);
    if (!el) return null;
    try { return JSON.parse(el.textContent); } catch (e) { return null; }
  }

  function fmt(digits) {
    try { return new Intl.NumberFormat(document.documentElement.lang || "en", { maximumFractionDigits: digits }); }
    catch (e) { return { format: function (v) { return String(v); } }; }
  }

  function options(digits, stacked) {
    var n = fmt(digits);
    return {
      responsive: true, maintainAspectRatio: false, animation: { duration: 300 },
      interaction: { mode: "index", intersect: false },
      plugins: {
        legend: { position: "bottom", labels: { usePointStyle: true, boxWidth: 7, boxHeight: 7, color: palette.ink } },
        tooltip: { callbacks: { label: function (ctx) { return ctx.dataset.label + ": " + n.format(ctx.parsed.y); } } }
      },
      scales: {
        x: { stacked: stacked, grid: { display: false }, ticks: { color: palette.ink, maxRotation: 0, autoSkipPadding: 12 } },
        y: { stacked: stacked, beginAtZero: true, grid: { color: palette.grid }, ticks: { color: palette.ink, callback: function (v) { return n.format(v); } } }
      }
    };
  }

  var builders = {
    money: function (data) {
      var m = data.money;
      function bar(key, colour) {
        return { label: m.labels[key], data: m[key], backgroundColor: colour, borderRadius: 2, maxBarThickness: 18 };
      }
      return { type: "bar", data: { labels: data.labels, datasets: [bar("settled", palette.green), bar("pending", palette.blue), bar("reversed", palette.rose)] }, options: options(2, true) };
    },
    orders: function (data) {
      var o = options(0, false);
      o.plugins.legend.display = false;
      return { type: "line", data: { labels: data.labels, datasets: [{ label: data.orders.label, data: data.orders.values, borderColor: palette.amber, backgroundColor: palette.amber, pointRadius: 0, borderWidth: 2 }] }, options: o };
    }
  };

  function draw() {
    if (typeof window.Chart === "undefined") return;
    var data = readJSON("aff-chart");
    if (!data) return;
    document.querySelectorAll("canvas[data-aff-chart]").forEach(function (canvas) {
      var build = builders[canvas.getAttribute("data-aff-chart")];
      if (!build || canvas.dataset.drawn) return;
      canvas.dataset.drawn = "1";
      new window.Chart(canvas, build(data));
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();
