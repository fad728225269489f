// A form marked data-confirm="question" asks before it is sent (the page's Content-Security-Policy forbids
// inline handlers such as onsubmit="return confirm(...)": they were silently blocked and the form went out
// unasked). Without scripts the form is sent as is: the pages that delete data also offer a confirmation page.
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-confirm")) { return; }
    if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
  }, true);
})();
