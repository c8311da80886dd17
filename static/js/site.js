/* The pages work without this script; with it:
 * - a "Show password" button beside each password field (it shows what was
 *   typed until pressed again, and hides it again before the form is sent;
 *   its words come from the page, translated: data-show-password and
 *   data-hide-password on <html>);
 * - the "send a new code" button counts down its cooldown, and a message
 *   that names the same wait counts with it.
 * No build step: plain ES5, loaded with `defer`. */
(function () {
  "use strict";

  function passwordToggles() {
    var inputs = document.querySelectorAll('input[type="password"]');
    Array.prototype.forEach.call(inputs, function (input) {
      if (!input.id || input.hasAttribute("hidden")) return;
      var showText = document.documentElement.getAttribute("data-show-password") || "Show password";
      var hideText = document.documentElement.getAttribute("data-hide-password") || "Hide password";
      var wrapper = document.createElement("div");
      wrapper.className = "password-input";
      input.parentNode.insertBefore(wrapper, input);
      wrapper.appendChild(input);
      var button = document.createElement("button");
      button.type = "button";
      button.className = "secondary small toggle-password";
      button.setAttribute("aria-controls", input.id);
      button.textContent = showText;
      wrapper.appendChild(button);
      button.addEventListener("click", function () {
        var show = input.type === "password";
        input.type = show ? "text" : "password";
        button.textContent = show ? hideText : showText;
      });
      if (input.form) {
        input.form.addEventListener("submit", function () {
          input.type = "password";
          button.textContent = showText;
        });
      }
    });
  }

  function countdowns() {
    var button = document.getElementById("resend-button");
    if (!button) return;
    var left = parseInt(button.getAttribute("data-resend-in"), 10) || 0;
    if (left <= 0) return;
    var numbers = document.querySelectorAll("[data-countdown]");
    function show() {
      Array.prototype.forEach.call(numbers, function (span) {
        span.textContent = String(left);
      });
    }
    var timer = setInterval(function () {
      left -= 1;
      if (left <= 0) {
        clearInterval(timer);
        button.disabled = false;
        button.textContent = button.getAttribute("data-ready-text");
        Array.prototype.forEach.call(document.querySelectorAll("[data-countdown-wait]"), function (el) {
          el.hidden = true;
        });
        Array.prototype.forEach.call(document.querySelectorAll("[data-countdown-ready]"), function (el) {
          el.hidden = false;
        });
      } else {
        button.textContent = button.getAttribute("data-wait-text").replace("{seconds}", left);
        show();
      }
    }, 1000);
  }

  function start() {
    passwordToggles();
    countdowns();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
