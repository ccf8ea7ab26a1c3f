// Add / remove line items of a Django formset (keeps TOTAL_FORMS right).
document.querySelectorAll(".qms-formset").forEach(function (fs) {
  var prefix = fs.dataset.prefix;
  var total = fs.querySelector("#id_" + prefix + "-TOTAL_FORMS");
  var body = fs.querySelector("tbody");
  function renumber() {
    var rows = body.querySelectorAll("tr.qms-line");
    rows.forEach(function (row, index) {
      row.querySelectorAll("input, select, textarea").forEach(function (el) {
        ["name", "id"].forEach(function (attr) {
          var v = el.getAttribute(attr);
          if (v) el.setAttribute(attr, v.replace(new RegExp(prefix + "-(\\d+|__prefix__)-"), prefix + "-" + index + "-"));
        });
        // "quantity, line 2" for a screen reader (the pattern comes translated from the page)
        if (el.dataset.column && fs.dataset.lineLabel) {
          el.setAttribute("aria-label", fs.dataset.lineLabel.replace("__column__", el.dataset.column).replace("__line__", index + 1));
        }
      });
      var number = row.querySelector(".qms-line__number");
      if (number) number.textContent = index + 1;
    });
    total.value = rows.length;
  }
  fs.querySelector(".qms-add-line").addEventListener("click", function () {
    var tpl = fs.querySelector("template.qms-empty-line");
    body.appendChild(tpl.content.cloneNode(true));
    renumber();
  });
  body.addEventListener("click", function (event) {
    if (event.target.classList.contains("qms-remove-line")) {
      event.target.closest("tr").remove();
      renumber();
    }
  });
});
