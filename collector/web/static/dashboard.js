// DrugTrace dashboard: the only script, served by the collector itself (no CDN).
document.addEventListener("DOMContentLoaded", function () {
  var all = document.getElementById("pick-all");
  if (all) {
    all.addEventListener("click", function () {
      var boxes = document.querySelectorAll("input.pick");
      var any = Array.prototype.some.call(boxes, function (b) { return !b.checked; });
      boxes.forEach(function (b) { b.checked = any; });
    });
  }
});
