/* ml-connector: small progressive enhancements. Everything works without this file. */
(function () {
  "use strict";
  // <input data-filter-select="SELECT_ID">: hide the options of that select that do not contain the typed text.
  document.addEventListener("input", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches("[data-filter-select]")) return;
    var select = document.getElementById(input.getAttribute("data-filter-select"));
    if (!select) return;
    var needle = input.value.trim().toLowerCase();
    var firstVisible = null;
    Array.prototype.forEach.call(select.options, function (option) {
      var show = !needle || option.text.toLowerCase().indexOf(needle) !== -1;
      option.hidden = !show;
      if (show && !firstVisible) firstVisible = option;
    });
    if (needle && firstVisible && (select.selectedIndex < 0 || select.options[select.selectedIndex].hidden)) {
      firstVisible.selected = true;
    }
  });
})();
