/* Seller Center accessibility helpers, for every page (loaded by base.html; no inline script).
   A table wider than the screen scrolls sideways inside its .table-responsive box: a keyboard
   user must be able to reach that box to scroll it (WCAG 2.1.1), so a box that overflows becomes
   a focusable, labelled region; one that fits stays out of the tab order. */
(function () {
  "use strict";

  function label(box) {
    var table = box.querySelector("table");
    var caption = table && table.querySelector("caption");
    if (caption) return caption.textContent.trim();
    var card = box.closest(".sc-card, section");
    var heading = card && card.querySelector("h2, h3");
    if (heading) return heading.textContent.trim();
    var h1 = document.querySelector("main h1");
    return h1 ? h1.textContent.trim() : document.title;
  }

  function update(root) {
    var boxes = (root || document).querySelectorAll(".table-responsive");
    for (var i = 0; i < boxes.length; i++) {
      var box = boxes[i];
      if (box.scrollWidth > box.clientWidth + 1) {
        box.setAttribute("tabindex", "0");
        box.setAttribute("role", "region");
        if (!box.hasAttribute("aria-label")) box.setAttribute("aria-label", label(box));
        box.dataset.scScrollable = "1";
      } else if (box.dataset.scScrollable) {
        box.removeAttribute("tabindex");
        box.removeAttribute("role");
        delete box.dataset.scScrollable;
      }
    }
  }

  var pending = null;
  function later() {
    if (pending) cancelAnimationFrame(pending);
    pending = requestAnimationFrame(function () { pending = null; update(); });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", function () { update(); });
  else update();
  window.addEventListener("resize", later);
  document.addEventListener("htmx:afterSettle", later);
})();
