/* Seller Center page behaviour. No inline scripts (CSP): data comes from json_script tags. */
(function () {
  "use strict";

  var charts = new WeakMap();

  function readJSON(id) {
    var el = document.getElementById(id);
    if (!el) return null;
    try { return JSON.parse(el.textContent); } catch (e) { return null; }
  }

  function moneyFormatter(data, digits) {
    if (digits === undefined) digits = data.exponent;
    var lang = document.documentElement.lang || "en";
    var fmt;
    try {
      fmt = new Intl.NumberFormat(lang, {
        style: "currency", currency: data.currency,
        minimumFractionDigits: digits, maximumFractionDigits: digits
      });
    } catch (e) {
      fmt = { format: function (v) { return data.currency + " " + v.toFixed(digits); } };
    }
    var scale = Math.pow(10, data.exponent);
    return function (minor) { return fmt.format(minor / scale); };
  }

  var palette = {
    blue: "#3b82f6", blueSoft: "rgba(59,130,246,.14)", green: "#22c55e", rose: "#f43f5e",
    grid: "rgba(15,23,42,.06)", ink: "#64748b"
  };

  function baseOptions() {
    return {
      responsive: true, maintainAspectRatio: false, animation: { duration: 300 },
      interaction: { mode: "index", intersect: false },
      plugins: { legend: { position: "bottom", labels: { usePointStyle: true, pointStyle: "circle", boxWidth: 7, boxHeight: 7, color: palette.ink } } },
      scales: {
        x: { grid: { display: false }, ticks: { color: palette.ink, maxRotation: 0, autoSkipPadding: 12 } },
        y: { beginAtZero: true, grid: { color: palette.grid }, ticks: { color: palette.ink, precision: 0 } }
      }
    };
  }

  var builders = {
    orders: function (data) {
      var o = data.orders;
      return {
        type: "bar",
        data: {
          labels: data.labels,
          datasets: [
            { label: o.labels.created, data: o.created, backgroundColor: palette.blue, borderRadius: 4, maxBarThickness: 18 },
            { label: o.labels.paid, data: o.paid, type: "line", borderColor: palette.green, backgroundColor: palette.green,
              cubicInterpolationMode: "monotone", pointRadius: 0, borderWidth: 2 },
            { label: o.labels.cancelled, data: o.cancelled, type: "line", borderColor: palette.rose, backgroundColor: palette.rose,
              cubicInterpolationMode: "monotone", pointRadius: 0, borderWidth: 2, borderDash: [4, 3] }
          ]
        },
        options: baseOptions()
      };
    },
    gmv: function (data) {
      var fmt = moneyFormatter(data);
      var axis = moneyFormatter(data, 0);
      var opts = baseOptions();
      opts.plugins.legend.display = false;
      opts.scales.y.ticks.callback = function (v) { return axis(v); };
      opts.scales.y.ticks.precision = undefined;
      // An empty month still gets a readable axis (not ten ticks of 0.00).
      if (!data.gmv.minor.some(function (v) { return v !== 0; })) {
        opts.scales.y.suggestedMax = 100 * Math.pow(10, data.exponent);
      }
      opts.plugins.tooltip = { callbacks: { label: function (ctx) { return data.gmv.label + ": " + fmt(ctx.parsed.y); } } };
      return {
        type: "line",
        data: {
          labels: data.labels,
          datasets: [{ label: data.gmv.label, data: data.gmv.minor, borderColor: palette.blue, backgroundColor: palette.blueSoft,
                       fill: true, cubicInterpolationMode: "monotone", pointRadius: 0, pointHoverRadius: 4, borderWidth: 2 }]
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
          plugins: { legend: { display: false }, tooltip: { enabled: total > 0 } }
        }
      };
    }
  };

  function initCharts(root) {
    if (typeof window.Chart === "undefined") return;
    (root || document).querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      if (charts.has(canvas)) return;
      var data = readJSON(canvas.dataset.source);
      var build = builders[canvas.dataset.chart];
      if (!data || !build) return;
      charts.set(canvas, new window.Chart(canvas, build(data)));
    });
  }

  // A filter form whose state lives in the URL (hx-push-url): after htmx restores a page from
  // its history cache, the inputs show the values they were rendered with, not the ones in the
  // URL being restored; set them back from the URL.
  function syncFormsFromURL() {
    var params = new URLSearchParams(window.location.search);
    document.querySelectorAll("form[data-sc-url-form]").forEach(function (form) {
      Array.prototype.forEach.call(form.elements, function (el) {
        if (!el.name || el.type === "submit" || el.type === "button") return;
        el.value = params.get(el.name) || (el.type === "hidden" ? el.value : "");
      });
    });
  }

  // Text filters apply on Enter / the Filter button only: their "change" event (which browsers
  // fire right before an implicit submit) would otherwise send a second, aborted request.
  document.addEventListener("change", function (evt) {
    var el = evt.target;
    if (el.form && el.form.hasAttribute("data-sc-url-form") && (el.type === "search" || el.type === "text")) {
      evt.stopPropagation();
    }
  }, true);

  document.addEventListener("DOMContentLoaded", function () { initCharts(document); });
  document.addEventListener("htmx:historyRestore", syncFormsFromURL);
  document.addEventListener("htmx:load", function (evt) { initCharts(evt.target); });
})();
