// The business permission form: a qualification's certificate picker is shown only while
// that qualification is ticked (the server ignores the files of one not ticked). Without
// this script every picker stays visible.
(function () {
  "use strict";
  var boxes = document.querySelectorAll('input[name="qualifications"]');
  function sync() {
    boxes.forEach(function (box) {
      var group = document.querySelector(
        '.qualification-evidence[data-qualification="' + box.value + '"]');
      if (group) {
        group.hidden = !box.checked;
      }
    });
  }
  boxes.forEach(function (box) { box.addEventListener("change", sync); });
  sync();
})();
