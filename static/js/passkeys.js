/* Passkeys on the pages (SPEC §17). The pages work without this script,
 * minus passkeys. It drives every <form data-passkey="get|create">:
 *
 * - its <button data-passkey-start> (hidden until the browser can do
 *   WebAuthn) asks data-options-url for options (a POST with the form's CSRF
 *   token; JSON {"publicKey": …}, or {"error": …} with "reauthenticate" or
 *   "signin": the page to go to first),
 *   hands them to navigator.credentials, and posts what the browser made as
 *   the form's "credential" field;
 * - with data-autofill, on load, a conditional request: the browser offers
 *   the site's passkeys in the autofill of the field marked
 *   autocomplete="username webauthn"; choosing one signs in the same way;
 * - a refusal or a cancel shows data-error-text in [data-passkey-error].
 *
 * [data-passkey-offer] (the offer after a password sign-in) is hidden where
 * the browser cannot make a passkey. No build step. */
(function () {
  "use strict";

  var supported = !!(window.PublicKeyCredential && navigator.credentials);

  function toBuffer(value) {
    var text = value.replace(/-/g, "+").replace(/_/g, "/");
    while (text.length % 4) text += "=";
    var binary = atob(text);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes.buffer;
  }

  function toBase64url(buffer) {
    if (!buffer) return null;
    var bytes = new Uint8Array(buffer);
    var binary = "";
    for (var i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]);
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function decodeOptions(options) {
    var decoded = Object.assign({}, options, { challenge: toBuffer(options.challenge) });
    if (options.user) decoded.user = Object.assign({}, options.user, { id: toBuffer(options.user.id) });
    ["excludeCredentials", "allowCredentials"].forEach(function (key) {
      if (!options[key]) return;
      decoded[key] = options[key].map(function (item) {
        return Object.assign({}, item, { id: toBuffer(item.id) });
      });
    });
    return decoded;
  }

  function encodeCredential(credential) {
    var response = credential.response;
    var json = {
      id: credential.id,
      rawId: toBase64url(credential.rawId),
      type: credential.type,
      clientExtensionResults: credential.getClientExtensionResults
        ? credential.getClientExtensionResults()
        : {},
      authenticatorAttachment: credential.authenticatorAttachment || null,
      response: { clientDataJSON: toBase64url(response.clientDataJSON) },
    };
    if (response.attestationObject) {
      json.response.attestationObject = toBase64url(response.attestationObject);
      json.response.transports = response.getTransports ? response.getTransports() : [];
    } else {
      json.response.authenticatorData = toBase64url(response.authenticatorData);
      json.response.signature = toBase64url(response.signature);
      json.response.userHandle = toBase64url(response.userHandle);
    }
    return JSON.stringify(json);
  }

  function PasskeyForm(form) {
    this.form = form;
    this.mode = form.getAttribute("data-passkey");
    this.errorBox = form.querySelector("[data-passkey-error]");
    this.pending = null; // the AbortController of a conditional request
  }

  PasskeyForm.prototype.showError = function (text) {
    if (!this.errorBox) return;
    this.errorBox.textContent = text || this.form.getAttribute("data-error-text") || "";
    this.errorBox.hidden = false;
  };

  PasskeyForm.prototype.fetchOptions = function () {
    var body = new FormData();
    var token = this.form.querySelector('input[name="csrfmiddlewaretoken"]');
    var next = this.form.querySelector('input[name="next"]');
    if (token) body.append("csrfmiddlewaretoken", token.value);
    if (next) body.append("next", next.value);
    return fetch(this.form.getAttribute("data-options-url"), {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRFToken": token ? token.value : "" },
    }).then(function (response) {
      return response.json().then(function (data) {
        if (response.ok && data.publicKey) return data.publicKey;
        if (data.reauthenticate) window.location.assign(data.reauthenticate);
        else if (data.signin) window.location.assign(data.signin);
        var error = new Error(data.error || "");
        error.name = "Refused";
        throw error;
      });
    });
  };

  PasskeyForm.prototype.submit = function (credential) {
    this.form.querySelector('input[name="credential"]').value = encodeCredential(credential);
    this.form.submit();
  };

  PasskeyForm.prototype.run = function () {
    var self = this;
    if (self.pending) {
      self.pending.abort();
      self.pending = null;
    }
    if (self.errorBox) self.errorBox.hidden = true;
    return self
      .fetchOptions()
      .then(function (options) {
        var publicKey = decodeOptions(options);
        return self.mode === "create"
          ? navigator.credentials.create({ publicKey: publicKey })
          : navigator.credentials.get({ publicKey: publicKey });
      })
      .then(function (credential) {
        if (credential) self.submit(credential);
      })
      .catch(function (error) {
        self.showError(error && error.name === "Refused" ? error.message : null);
      });
  };

  PasskeyForm.prototype.autofill = function () {
    var self = this;
    if (!PublicKeyCredential.isConditionalMediationAvailable) return;
    PublicKeyCredential.isConditionalMediationAvailable()
      .then(function (available) {
        if (!available) return null;
        return self.fetchOptions().then(function (options) {
          self.pending = new AbortController();
          return navigator.credentials.get({
            publicKey: decodeOptions(options),
            mediation: "conditional",
            signal: self.pending.signal,
          });
        });
      })
      .then(function (credential) {
        self.pending = null;
        if (credential) self.submit(credential);
      })
      .catch(function () {
        // Aborted for the button, or nothing chosen: the page stays as it is.
      });
  };

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-passkey-offer]"), function (el) {
      if (!supported) el.hidden = true;
    });
    if (!supported) return;
    Array.prototype.forEach.call(document.querySelectorAll("form[data-passkey]"), function (form) {
      var passkeyForm = new PasskeyForm(form);
      Array.prototype.forEach.call(form.querySelectorAll("[data-passkey-start]"), function (button) {
        button.hidden = false;
        button.addEventListener("click", function (event) {
          event.preventDefault();
          passkeyForm.run();
        });
      });
      Array.prototype.forEach.call(form.querySelectorAll("[data-passkey-unsupported]"), function (el) {
        el.hidden = true;
      });
      if (form.hasAttribute("data-autofill")) passkeyForm.autofill();
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
