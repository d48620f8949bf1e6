// Accord portal, administration: the copy button beside a key shown once.
// Without JavaScript the key is in a read-only field to select and copy by hand.
(function () {
  "use strict";

  function copied(button) {
    var label = button.textContent;
    button.textContent = button.getAttribute("data-copied") || label;
    window.setTimeout(function () { button.textContent = label; }, 2000);
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    var field = document.getElementById(button.getAttribute("data-copy"));
    if (!field) return;
    field.focus();
    field.select();
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(function () { copied(button); }, function () {
        // Refused (permissions): the text stays selected for Ctrl+C.
      });
    } else if (document.execCommand && document.execCommand("copy")) {
      copied(button);
    }
  });
})();
