/* The home dashboard's charts. No inline scripts (CSP): the data, and every label already
   formatted for the active language, come from the "dashboard-chart" json_script tag.
   The last day of the series is today, still in progress: its bar is hatched and the line
   segments into it dashed, so a half-day does not read as a fall. */
(function () {
  "use strict";

  var charts = new WeakMap();
  var palette = {
    blue: "#3b82f6", blueSoft: "rgba(59,130,246,.14)", green: "#22c55e", rose: "#f43f5e",
    grid: "rgba(15,23,42,.06)", ink: "#475569"
  };

  function readJSON(id) {
    var el = document.getElementById(id);
    if (!el) return null;
    try { return JSON.parse(el.textContent); } catch (e) { return null; }
  }

  function lang() { return document.documentElement.lang || "en"; }

  // The cards' money style (core.money: the shop currency's symbol, then the amount with
  // grouping), for the axis ticks; tooltips show the server's own strings.
  function moneyTick(data) {
    var fmt;
    try { fmt = new Intl.NumberFormat(lang(), { maximumFractionDigits: 0 }); }
    catch (e) { fmt = { format: function (v) { return String(Math.round(v)); } }; }
    var scale = Math.pow(10, data.exponent);
    return function (minor) { return (minor < 0 ? "-" : "") + data.symbol + fmt.format(Math.abs(minor) / scale); };
  }

  function countFormat() {
    try { return new Intl.NumberFormat(lang(), { maximumFractionDigits: 0 }); }
    catch (e) { return { format: function (v) { return String(v); } }; }
  }

  function hatch(colour) {
    var c = document.createElement("canvas");
    c.width = 8; c.height = 8;
    var g = c.getContext("2d");
    g.fillStyle = "rgba(59,130,246,.15)";
    g.fillRect(0, 0, 8, 8);
    g.strokeStyle = colour; g.lineWidth = 2;
    g.beginPath(); g.moveTo(0, 8); g.lineTo(8, 0); g.moveTo(-2, 2); g.lineTo(2, -2); g.moveTo(6, 10); g.lineTo(10, 6); g.stroke();
    return g.createPattern(c, "repeat");
  }

  function dashedIntoPartial(data) {
    return { borderDash: function (ctx) { return ctx.p1DataIndex === data.partial ? [4, 4] : undefined; } };
  }

  function baseOptions() {
    var n = countFormat();
    return {
      responsive: true, maintainAspectRatio: false, animation: { duration: 300 },
      interaction: { mode: "index", intersect: false },
      plugins: {
        legend: { position: "bottom", labels: { usePointStyle: true, pointStyle: "circle", boxWidth: 7, boxHeight: 7, color: palette.ink } },
        tooltip: { callbacks: { label: function (ctx) { return ctx.dataset.label + ": " + n.format(ctx.parsed.y); } } }
      },
      scales: {
        x: { grid: { display: false }, ticks: { color: palette.ink, maxRotation: 0, autoSkipPadding: 12 } },
        y: { beginAtZero: true, grid: { color: palette.grid }, ticks: { color: palette.ink, precision: 0, callback: function (v) { return n.format(v); } } }
      }
    };
  }

  var builders = {
    orders: function (data) {
      var o = data.orders;
      var bars = o.created.map(function (_, i) { return i === data.partial ? hatch(palette.blue) : palette.blue; });
      return {
        type: "bar",
        data: {
          labels: data.labels,
          datasets: [
            { label: o.labels.created, data: o.created, backgroundColor: bars, borderColor: palette.blue,
              borderWidth: o.created.map(function (_, i) { return i === data.partial ? 1 : 0; }), borderRadius: 4, maxBarThickness: 18 },
            { label: o.labels.paid, data: o.paid, type: "line", borderColor: palette.green, backgroundColor: palette.green,
              cubicInterpolationMode: "monotone", pointRadius: 0, borderWidth: 2, segment: dashedIntoPartial(data) },
            { label: o.labels.cancelled, data: o.cancelled, type: "line", borderColor: palette.rose, backgroundColor: palette.rose,
              cubicInterpolationMode: "monotone", pointRadius: 0, borderWidth: 2, borderDash: [2, 2] }
          ]
        },
        options: baseOptions()
      };
    },
    gmv: function (data) {
      var axis = moneyTick(data);
      var opts = baseOptions();
      opts.plugins.legend.display = false;
      opts.scales.y.ticks.callback = function (v) { return axis(v); };
      opts.scales.y.ticks.precision = undefined;
      // An empty month still gets a readable axis (not ten ticks of 0).
      if (!data.gmv.minor.some(function (v) { return v !== 0; })) {
        opts.scales.y.suggestedMax = 100 * Math.pow(10, data.exponent);
      }
      opts.plugins.tooltip = { callbacks: { label: function (ctx) { return data.gmv.label + ": " + data.gmv.text[ctx.dataIndex]; } } };
      return {
        type: "line",
        data: {
          labels: data.labels,
          datasets: [{ label: data.gmv.label, data: data.gmv.minor, borderColor: palette.blue, backgroundColor: palette.blueSoft,
                       fill: true, cubicInterpolationMode: "monotone", borderWidth: 2, segment: dashedIntoPartial(data),
                       pointRadius: data.gmv.minor.map(function (_, i) { return i === data.partial ? 3 : 0; }),
                       pointBackgroundColor: "#fff", pointHoverRadius: 4 }]
        },
        options: opts
      };
    },
    status: function (data) {
      var s = data.status;
      var total = s.counts.reduce(function (a, b) { return a + b; }, 0);
      return {
        type: "doughnut",
        data: {
          labels: s.labels,
          datasets: [{ data: total ? s.counts : [1], backgroundColor: total ? s.colours : ["#e2e8f0"], borderWidth: 2, borderColor: "#fff" }]
        },
        options: {
          responsive: true, maintainAspectRatio: false, cutout: "68%",
          plugins: { legend: { display: false }, tooltip: { enabled: total > 0, callbacks: {
            label: function (ctx) { return ctx.label + ": " + s.text[ctx.dataIndex]; } } } }
        }
      };
    }
  };

  function initCharts(root) {
    if (typeof window.Chart === "undefined") return;
    (root || document).querySelectorAll("canvas[data-dash-chart]").forEach(function (canvas) {
      if (charts.has(canvas)) return;
      var data = readJSON(canvas.dataset.source);
      var build = builders[canvas.dataset.dashChart];
      if (!data || !build) return;
      charts.set(canvas, new window.Chart(canvas, build(data)));
    });
  }

  document.addEventListener("DOMContentLoaded", function () { initCharts(document); });
  document.addEventListener("htmx:load", function (evt) { initCharts(evt.target); });
})();
