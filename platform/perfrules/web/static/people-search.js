/* People found as you type: an input with data-people-url and a list (a <datalist>) asks the
 * server for the few people whose login or name match what is typed, and offers them. The page
 * itself never lists everyone. */
(function () {
  "use strict";

  var DEBOUNCE_MS = 250;

  Array.prototype.forEach.call(document.querySelectorAll("input[data-people-url][list]"), function (input) {
    var timer = null;
    var asked = "";
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var words = input.value.trim();
        if (words.length < 2 || words === asked) { return; }
        asked = words;
        fetch(input.getAttribute("data-people-url") + "?q=" + encodeURIComponent(words),
              { credentials: "same-origin", headers: { "Accept": "application/json" } })
          .then(function (response) { return response.ok ? response.json() : { people: [] }; })
          .then(function (data) {
            var list = document.getElementById(input.getAttribute("list"));
            list.textContent = "";
            (data.people || []).forEach(function (person) {
              var option = document.createElement("option");
              option.value = person.login;
              option.textContent = person.name || person.login;
              list.appendChild(option);
            });
          })
          .catch(function () { asked = ""; });
      }, DEBOUNCE_MS);
    });
  });
}());
