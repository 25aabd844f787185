/* The declaration form (guide fig. 14): gender and age follow the ID number.
   When the ID number is a valid 18-character number, the gender (17th digit) and the age
   (birth date, on the office's date in data-today) are filled in - unless the user typed or
   chose another value. The hidden gender_derived / age_derived fields tell the server which
   values the page filled in, so they follow a corrected ID number there too. */
(function () {
  "use strict";
  var WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  var CHECK = "10X98765432";

  function fold(text) {  /* full-width digits, as the server folds them */
    return text.replace(/[\uFF10-\uFF19]/g, function (c) {
      return String.fromCharCode(c.charCodeAt(0) - 0xFF10 + 48);
    }).trim();
  }

  /* {gender, age} of a valid ID number on the given day, or null. */
  function derive(raw, today) {
    var value = fold(raw);
    if (!/^[0-9]{17}[0-9X]$/.test(value)) { return null; }
    var year = +value.slice(6, 10), month = +value.slice(10, 12), day = +value.slice(12, 14);
    var born = new Date(Date.UTC(year, month - 1, day));
    if (born.getUTCFullYear() !== year || born.getUTCMonth() !== month - 1 ||
        born.getUTCDate() !== day) { return null; }
    var sum = 0;
    for (var i = 0; i < 17; i += 1) { sum += +value.charAt(i) * WEIGHTS[i]; }
    if (CHECK.charAt(sum % 11) !== value.charAt(17)) { return null; }
    var age = today.year - year - ((today.month < month ||
      (today.month === month && today.day < day)) ? 1 : 0);
    if (age < 0) { return null; }
    return { gender: (+value.charAt(16)) % 2 ? "male" : "female", age: String(age) };
  }

  function init() {
    var form = document.querySelector("form.declaration-form");
    if (!form) { return; }
    var idInput = form.querySelector("#id_number");
    var age = form.querySelector("#age");
    var ageDerived = form.querySelector("#age_derived");
    var genderDerived = form.querySelector("#gender_derived");
    var radios = form.querySelectorAll('input[name="gender"]');
    var parts = (form.getAttribute("data-today") || "").split("-");
    var today = { year: +parts[0], month: +parts[1], day: +parts[2] };
    if (!idInput || !age || !ageDerived || !genderDerived || !parts[2]) { return; }

    function chosenGender() {
      var value = "";
      Array.prototype.forEach.call(radios, function (r) { if (r.checked) { value = r.value; } });
      return value;
    }

    function follow() {
      var found = derive(idInput.value, today);
      var typedAge = age.value.trim();
      if (!typedAge || typedAge === ageDerived.value) {
        age.value = found ? found.age : "";
        ageDerived.value = age.value;
      }
      var gender = chosenGender();
      if (!gender || gender === genderDerived.value) {
        Array.prototype.forEach.call(radios, function (r) {
          r.checked = Boolean(found) && r.value === found.gender;
        });
        genderDerived.value = found ? found.gender : "";
      }
    }

    idInput.addEventListener("input", follow);
    idInput.addEventListener("change", follow);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
}());
