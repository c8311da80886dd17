/* The pages work without this script; with it:
 * - a "Show password" button beside each password field (it shows what was
 *   typed until pressed again, and hides it again before the form is sent;
 *   its words come from the page, translated: data-show, data-hide,
 *   data-show-password and data-hide-password on <html>);
 * - the "send a new code" button counts down its cooldown, and a message
 *   that names the same wait counts with it.
 * No build step: plain ES5, loaded with `defer`. */
(function () {
  "use strict";

  function wordsOf() {
    var html = document.documentElement;
    function word(name, fallback) {
      return html.getAttribute("data-" + name) || fallback;
    }
    return {
      show: word("show", "Show"),
      hide: word("hide", "Hide"),
      showPassword: word("show-password", "Show password"),
      hidePassword: word("hide-password", "Hide password"),
    };
  }

  function passwordToggles() {
    var words = wordsOf();
    var inputs = document.querySelectorAll('input[type="password"]');
    Array.prototype.forEach.call(inputs, function (input) {
      if (!input.id || input.hasAttribute("hidden")) return;
      // Moving the field into its wrapper loses its focus (or its autofocus,
      // not yet applied): give it back.
      var active = document.activeElement;
      var focused = active === input || (input.autofocus && (!active || active === document.body));
      var wrapper = document.createElement("div");
      wrapper.className = "password-input";
      input.parentNode.insertBefore(wrapper, input);
      wrapper.appendChild(input);
      if (focused) input.focus();
      var button = document.createElement("button");
      button.type = "button";
      button.className = "secondary small toggle-password";
      button.setAttribute("aria-controls", input.id);
      wrapper.appendChild(button);
      // "Show" on screen, "Show password" when read out (both from the page,
      // translated): the button stays narrow on a phone.
      function label(shown, spoken) {
        button.textContent = "";
        var visible = document.createElement("span");
        visible.setAttribute("aria-hidden", "true");
        visible.textContent = shown;
        var read = document.createElement("span");
        read.className = "visually-hidden";
        read.textContent = spoken;
        button.appendChild(visible);
        button.appendChild(read);
      }
      label(words.show, words.showPassword);
      button.addEventListener("click", function () {
        var show = input.type === "password";
        input.type = show ? "text" : "password";
        if (show) label(words.hide, words.hidePassword);
        else label(words.show, words.showPassword);
      });
      if (input.form) {
        input.form.addEventListener("submit", function () {
          input.type = "password";
          label(words.show, words.showPassword);
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
