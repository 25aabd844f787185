/* A file over the limit written beside its field (data-max-bytes), or more files than the
   field takes (data-max-files), is refused as soon as it is chosen: the message (data-too-large,
   data-too-many) appears beside the field and the choice is cleared, so it is never sent. Files already uploaded for the field stay (its hidden _keep field). The
   server checks every file the same way: this only saves sending what it would refuse. */
(function () {
  "use strict";
  function check(input) {
    var limit = +input.getAttribute("data-max-bytes");
    var id = input.id + "-too-large";
    var shown = document.getElementById(id);
    var files = input.files || [];
    var most = +(input.getAttribute("data-max-files") || 0);
    var tooMany = most > 0 && files.length > most;
    var over = tooMany || Array.prototype.some.call(files, function (file) {
      return file.size > limit;
    });
    if (!over) {
      if (shown) { shown.parentNode.removeChild(shown); }
      return;
    }
    input.value = "";
    if (!shown) {
      shown = document.createElement("div");
      shown.id = id;
      shown.className = "invalid-feedback d-block";
      shown.setAttribute("role", "alert");
      input.parentNode.insertBefore(shown, input.nextSibling);
    }
    shown.textContent = input.getAttribute(tooMany ? "data-too-many" : "data-too-large") || "";
  }
  function init() {
    var inputs = document.querySelectorAll('input[type="file"][data-max-bytes]');
    Array.prototype.forEach.call(inputs, function (input) {
      if (input.getAttribute("data-limit-bound")) { return; }  /* one script per field */
      input.setAttribute("data-limit-bound", "1");
      input.addEventListener("change", function () { check(input); });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
}());
