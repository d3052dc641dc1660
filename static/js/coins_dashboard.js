/* The coin dashboard's charts (SPEC C-11). No inline scripts (CSP): the data and its labels,
   already translated, come from the "coin-chart" json_script tag; every chart has a data table
   beside it in the page. */
(function () {
  "use strict";
  var palette = { blue: "#3b82f6", green: "#16a34a", rose: "#e11d48", amber: "#d97706", grid: "rgba(15,23,42,.06)", ink: "#475569" };

  function readJSON(id) {
    var el = document.getElementById(id);
    if (!el) return null;
    try { return JSON.parse(el.textContent); } catch (e) { return null; }
  }

  function fmt() {
    try { return new Intl.NumberFormat(document.documentElement.lang || "en", { maximumFractionDigits: 0 }); }
    catch (e) { return { format: function (v) { return String(v); } }; }
  }

  function options() {
    var n = fmt();
    return {
      responsive: true, maintainAspectRatio: false, animation: { duration: 300 },
      interaction: { mode: "index", intersect: false },
      plugins: {
        legend: { position: "bottom", labels: { usePointStyle: true, boxWidth: 7, boxHeight: 7, color: palette.ink } },
        tooltip: { callbacks: { label: function (ctx) { return ctx.dataset.label + ": " + n.format(ctx.parsed.y); } } }
      },
      scales: {
        x: { grid: { display: false }, ticks: { color: palette.ink, maxRotation: 0, autoSkipPadding: 12 } },
        y: { beginAtZero: true, grid: { color: palette.grid }, ticks: { color: palette.ink, precision: 0, callback: function (v) { return n.format(v); } } }
      }
    };
  }

  var builders = {
    daily: function (data) {
      var d = data.daily;
      function line(key, colour) {
        return { label: d.labels[key], data: d[key], borderColor: colour, backgroundColor: colour,
                 pointRadius: 0, borderWidth: 2, cubicInterpolationMode: "monotone" };
      }
      return { type: "line", data: { labels: data.labels, datasets: [line("issued", palette.blue), line("redeemed", palette.green), line("expired", palette.rose)] }, options: options() };
    },
    expiring: function (data) {
      var e = data.expiring;
      var o = options();
      o.plugins.legend.display = false;
      return { type: "bar", data: { labels: e.labels, datasets: [{ label: e.label, data: e.values, backgroundColor: palette.amber, borderRadius: 4, maxBarThickness: 36 }] }, options: o };
    }
  };

  function draw() {
    if (typeof window.Chart === "undefined") return;
    var data = readJSON("coin-chart");
    if (!data) return;
    document.querySelectorAll("canvas[data-coin-chart]").forEach(function (canvas) {
      var build = builders[canvas.getAttribute("data-coin-chart")];
      if (!build || canvas.dataset.drawn) return;
      canvas.dataset.drawn = "1";
      new window.Chart(canvas, build(data));
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();
