// The error summary of a step form (templates/workflows/_error_summary.html): focus moves to
// the first field in error, and each link of the summary moves the focus to its field.
(function () {
  var summary = document.getElementById("form-error");
  if (!summary) return;
  function focusable(target) {
    // a group that takes the focus itself (the decision buttons: never focus "Approve" for the person)
    if (target.matches("input, select, textarea, button, [tabindex]")) return target;
    return target.querySelector("input:not([type=hidden]):not([disabled]), select, textarea, button:not([disabled])") || target;
  }
  function moveTo(id) {
    var target = document.getElementById(id);
    if (!target) return false;
    var element = focusable(target);
    element.focus({ preventScroll: true });
    (target.closest(".qms-field, td, .qms-decision, fieldset") || target).scrollIntoView({ block: "center" });
    return true;
  }
  summary.addEventListener("click", function (event) {
    var link = event.target.closest("a[href^='#']");
    if (link && moveTo(decodeURIComponent(link.getAttribute("href").slice(1)))) event.preventDefault();
  });
  var first = summary.querySelector("a[href^='#']");
  if (!(first && moveTo(decodeURIComponent(first.getAttribute("href").slice(1))))) summary.focus();
})();
