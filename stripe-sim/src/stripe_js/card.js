/* The card Element's frame. The card number lives only here, on the sim's origin: the page
 * that mounted the Element gets change/ready/focus/blur events and, when it confirms, the id
 * of a PaymentMethod this frame creates itself. Messages go to the page's origin only. */
(function () {
  "use strict";
  var given = new URLSearchParams(window.location.hash.slice(1));
  var parentOrigin = given.get("origin");
  var frameName = given.get("frame");
  var key = given.get("key");
  var form = document.getElementById("card");
  var number = document.getElementById("cardnumber");
  var expiry = document.getElementById("exp-date");
  var cvc = document.getElementById("cvc");
  var brandLabel = document.getElementById("brand");
  // Like Elements, an incomplete field is reported once the buyer has left it.
  var left = { number: false, expiry: false, cvc: false };
  // After a confirm with missing fields, empty ones are reported too.
  var submitted = false;
  var lastChange = null;
  var focused = false;

  function send(event, extra) {
    if (!parentOrigin || window.parent === window) {
      return;
    }
    var message = { type: "stripe-sim", frame: frameName, event: event };
    Object.keys(extra || {}).forEach(function (k) {
      message[k] = extra[k];
    });
    try {
      window.parent.postMessage(message, parentOrigin);
    } catch (unreachable) {
      // A page without a real origin (file://, sandboxed) cannot be told anything.
    }
  }

  function digits(value) {
    return value.replace(/\D/g, "");
  }

  function brandOf(d) {
    if (/^4/.test(d)) return "visa";
    if (/^(5[1-5]|222[1-9]|22[3-9]|2[3-6]|27[01]|2720)/.test(d)) return "mastercard";
    if (/^3[47]/.test(d)) return "amex";
    if (/^(6011|64[4-9]|65)/.test(d)) return "discover";
    if (/^(30[0-5]|3095|36|3[89])/.test(d)) return "diners";
    if (/^35/.test(d)) return "jcb";
    if (/^62/.test(d)) return "unionpay";
    return "unknown";
  }

  function lengthOf(brand) {
    return brand === "amex" ? 15 : brand === "diners" ? 14 : 16;
  }

  function luhn(d) {
    var sum = 0;
    for (var i = 0; i < d.length; i++) {
      var n = Number(d.charAt(d.length - 1 - i));
      if (i % 2 === 1) {
        n *= 2;
        if (n > 9) n -= 9;
      }
      sum += n;
    }
    return sum % 10 === 0;
  }

  function problem(code, message, definite) {
    return { error: { type: "validation_error", code: code, message: message }, definite: definite };
  }

  function numberState() {
    var d = digits(number.value);
    if (!d) return problem("incomplete_number", "Your card number is incomplete.", false);
    if (d.length < lengthOf(brandOf(d))) {
      return problem("incomplete_number", "Your card number is incomplete.", false);
    }
    if (!luhn(d)) return problem("invalid_number", "Your card number is invalid.", true);
    return {};
  }

  function expiryState() {
    var d = digits(expiry.value);
    var month = Number(d.slice(0, 2));
    if (d.length >= 2 && (month < 1 || month > 12)) {
      return problem("invalid_expiry_month", "Your card's expiration month is invalid.", true);
    }
    if (d.length < 4) return problem("incomplete_expiry", "Your card's expiration date is incomplete.", false);
    var year = 2000 + Number(d.slice(2, 4));
    var now = new Date();
    var thisYear = now.getFullYear();
    if (year < thisYear) {
      return problem("invalid_expiry_year_past", "Your card's expiration year is in the past.", true);
    }
    if (year === thisYear && month < now.getMonth() + 1) {
      return problem("invalid_expiry_month_past", "Your card's expiration date is in the past.", true);
    }
    if (year > thisYear + 50) {
      return problem("invalid_expiry_year", "Your card's expiration year is invalid.", true);
    }
    return {};
  }

  function cvcState(brand) {
    var need = brand === "amex" ? 4 : 3;
    if (digits(cvc.value).length < need) {
      return problem("incomplete_cvc", "Your card's security code is incomplete.", false);
    }
    return {};
  }

  // The `change` event's payload (and the inputs' invalid marks). `all`: every problem, as
  // when confirming.
  function snapshot(all) {
    var brand = brandOf(digits(number.value));
    var fields = [
      ["number", number, numberState()],
      ["expiry", expiry, expiryState()],
      ["cvc", cvc, cvcState(brand)],
    ];
    var error;
    fields.forEach(function (f) {
      var input = f[1];
      var state = f[2];
      var shown = state.error && (all || state.definite || (left[f[0]] && (input.value !== "" || submitted)));
      input.classList.toggle("invalid", !!shown);
      input.setAttribute("aria-invalid", shown ? "true" : "false");
      if (shown && !error) error = state.error;
    });
    return {
      elementType: "card",
      empty: !number.value && !expiry.value && !cvc.value,
      complete: fields.every(function (f) {
        return !f[2].error;
      }),
      brand: brand,
      value: { postalCode: "" },
      error: error,
    };
  }

  function changed(onlyIfDifferent) {
    var payload = snapshot(false);
    var text = JSON.stringify(payload);
    if (onlyIfDifferent && text === lastChange) return;
    lastChange = text;
    var brand = payload.brand;
    brandLabel.textContent = brand === "unknown" ? "" : brand;
    send("change", { payload: payload });
  }

  // Sets a formatted value, keeping the caret after the same number of digits.
  function reformat(input, formatted) {
    if (input.value === formatted) return;
    var caret = input.selectionStart === null ? input.value.length : input.selectionStart;
    var before = digits(input.value.slice(0, caret)).length;
    input.value = formatted;
    var at = 0;
    for (var seen = 0; at < formatted.length && seen < before; at++) {
      if (/\d/.test(formatted.charAt(at))) seen++;
    }
    if (document.activeElement === input) input.setSelectionRange(at, at);
  }

  function groupNumber(d, brand) {
    var groups = brand === "amex" ? [4, 6, 5] : brand === "diners" ? [4, 6, 4] : [4, 4, 4, 4];
    var parts = [];
    var at = 0;
    groups.forEach(function (size) {
      if (at < d.length) parts.push(d.slice(at, at + size));
      at += size;
    });
    return parts.join(" ");
  }

  number.addEventListener("input", function () {
    var d = digits(number.value);
    var brand = brandOf(d);
    d = d.slice(0, lengthOf(brand));
    reformat(number, groupNumber(d, brand));
    if (d.length === lengthOf(brand) && luhn(d)) expiry.focus();
    changed(false);
  });

  expiry.addEventListener("input", function () {
    var d = digits(expiry.value).slice(0, 4);
    if (d.length === 1 && d > "1") d = "0" + d;
    reformat(expiry, d.length > 2 ? d.slice(0, 2) + " / " + d.slice(2) : d);
    if (d.length === 4 && !expiryState().error) cvc.focus();
    changed(false);
  });

  cvc.addEventListener("input", function () {
    var need = brandOf(digits(number.value)) === "amex" ? 4 : 3;
    reformat(cvc, digits(cvc.value).slice(0, need));
    changed(false);
  });

  [["number", number], ["expiry", expiry], ["cvc", cvc]].forEach(function (f) {
    f[1].addEventListener("blur", function () {
      left[f[0]] = true;
      changed(true);
    });
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
  });
  form.addEventListener("focusin", function () {
    if (!focused) {
      focused = true;
      send("focus", { payload: { elementType: "card" } });
    }
  });
  form.addEventListener("focusout", function () {
    // Focus moving between the three inputs is not a blur of the Element.
    setTimeout(function () {
      if (focused && !form.contains(document.activeElement)) {
        focused = false;
        send("blur", { payload: { elementType: "card" } });
      }
    }, 0);
  });
  window.addEventListener("blur", function () {
    if (focused) {
      focused = false;
      send("blur", { payload: { elementType: "card" } });
    }
  });

  // Bracket form fields for nested objects (`billing_details[address][city]`).
  function append(body, name, value) {
    if (value === undefined || value === null) return;
    if (typeof value === "object") {
      Object.keys(value).forEach(function (k) {
        append(body, name + "[" + k + "]", value[k]);
      });
      return;
    }
    body.append(name, String(value));
  }

  function reply(request, result) {
    send("result", { request: request, result: result });
  }

  // The frame is on the sim's origin: the API is the same origin, no CORS involved.
  function createPaymentMethod(request) {
    var state = snapshot(true);
    if (state.error) {
      left = { number: true, expiry: true, cvc: true };
      submitted = true;
      changed(true);
      reply(request.request, { error: state.error });
      return;
    }
    var exp = digits(expiry.value);
    var body = new URLSearchParams();
    body.append("key", key);
    body.append("type", "card");
    body.append("card[number]", digits(number.value));
    body.append("card[exp_month]", String(Number(exp.slice(0, 2))));
    body.append("card[exp_year]", "20" + exp.slice(2, 4));
    body.append("card[cvc]", digits(cvc.value));
    append(body, "billing_details", request.billing_details);
    fetch("/v1/payment_methods", { method: "POST", body: body, credentials: "omit" })
      .then(function (response) {
        return response.json().then(function (json) {
          if (!response.ok) return { error: json.error };
          return request.object ? { paymentMethod: json } : { id: json.id };
        });
      })
      .catch(function () {
        return { error: { type: "api_connection_error", message: "An error occurred with our connection to Stripe." } };
      })
      .then(function (result) {
        reply(request.request, result);
      });
  }

  // Requests from the page that mounted this frame, and from nobody else.
  window.addEventListener("message", function (event) {
    var data = event.data;
    if (event.origin !== parentOrigin || event.source !== window.parent) return;
    if (!data || data.type !== "stripe-sim" || data.frame !== frameName) return;
    if (data.action === "focus") {
      number.focus();
    } else if (data.action === "clear") {
      number.value = expiry.value = cvc.value = "";
      left = { number: false, expiry: false, cvc: false };
      submitted = false;
      changed(false);
    } else if (data.action === "createPaymentMethod") {
      createPaymentMethod(data);
    }
  });

  send("ready", { payload: { elementType: "card" } });
})();
