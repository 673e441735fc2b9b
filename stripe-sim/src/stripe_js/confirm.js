// `confirmCardPayment` (with the 3-D Secure modal), `retrievePaymentIntent` and
// `createPaymentMethod`. Every promise resolves `{paymentIntent}`/`{paymentMethod}` or
// `{error}`, as Stripe.js's do; only integration mistakes throw.

// Stripe.js's message when the buyer failed (or abandoned) 3-D Secure.
var AUTHENTICATION_FAILED =
  "We are unable to authenticate your payment method. Please choose a different payment method and try again.";

// Statuses after which a confirmed payment needs nothing more from the buyer.
var PAID = ["succeeded", "processing", "requires_capture"];

// `data.payment_method`: a card Element (the frame creates the PaymentMethod), an existing
// `pm_…` id, or nothing (the intent's own). Checked at once so mistakes throw like Stripe's.
function paymentMethodFor(value, method) {
  if (value === undefined || value === null) {
    return function () {
      return Promise.resolve({});
    };
  }
  if (typeof value === "string") {
    return function () {
      return Promise.resolve({ id: value });
    };
  }
  if (typeof value === "object" && value.card instanceof CardElement) {
    return function () {
      return value.card._createPaymentMethod(value.billing_details, false);
    };
  }
  throw integrationError(
    "Invalid value for " + method + ": payment_method should be a PaymentMethod id (pm_…) or an object with `card` set to a card Element."
  );
}

// The sim page the 3-D Secure challenge returns to inside the modal: it tells this page's
// origin (and only it) that the challenge is over.
function completionUrl() {
  return SIM + "/v3/authorize-complete?origin=" + encodeURIComponent(window.location.origin);
}

function redirectAction(intent) {
  var action = intent.status === "requires_action" && intent.next_action;
  return action && action.type === "redirect_to_url" && action.redirect_to_url ? action.redirect_to_url.url : null;
}

Stripe.prototype.confirmCardPayment = function (clientSecret, data, options) {
  var id = intentId(clientSecret, "confirmCardPayment");
  data = data || {};
  var handleActions = !(options && options.handleActions === false);
  var paymentMethod = paymentMethodFor(data.payment_method, "confirmCardPayment");
  var stripe = this;
  return paymentMethod().then(function (pm) {
    if (pm.error) {
      return { error: pm.error };
    }
    var params = confirmParams(clientSecret, pm.id, data, handleActions);
    return api("POST", "/payment_intents/" + id + "/confirm", stripe._key, params).then(function (answer) {
      if (answer.error) {
        return { error: answer.error };
      }
      var url = redirectAction(answer.ok);
      // A caller's own return_url means it handles the redirect itself, as Stripe documents.
      if (url && handleActions && !data.return_url) {
        return challenge(stripe, clientSecret, answer.ok.id, url);
      }
      return { paymentIntent: answer.ok };
    });
  });
};

// The confirm call's parameters. Other `data` keys are passed on as they are, so the sim
// refuses what it does not model (`parameter_unknown`) rather than ignoring it.
function confirmParams(clientSecret, pm, data, handleActions) {
  var params = {};
  Object.keys(data).forEach(function (name) {
    if (name !== "payment_method") {
      params[name] = data[name];
    }
  });
  params.client_secret = clientSecret;
  if (pm) {
    params.payment_method = pm;
  }
  if (!data.return_url && handleActions) {
    params.return_url = completionUrl();
  }
  return params;
}

Stripe.prototype.retrievePaymentIntent = function (clientSecret) {
  var id = intentId(clientSecret, "retrievePaymentIntent");
  var params = { client_secret: clientSecret };
  return api("GET", "/payment_intents/" + id, this._key, params).then(function (answer) {
    return answer.error ? { error: answer.error } : { paymentIntent: answer.ok };
  });
};

Stripe.prototype.createPaymentMethod = function (data) {
  if (!data || data.type !== "card" || !(data.card instanceof CardElement)) {
    throw integrationError(
      "stripe-sim's createPaymentMethod takes {type: 'card', card: cardElement, billing_details?}."
    );
  }
  return data.card._createPaymentMethod(data.billing_details, true).then(function (result) {
    return result.error ? { error: result.error } : { paymentMethod: result.paymentMethod };
  });
};

// Shows the challenge page in a modal over the page until it reports back, then reads the
// intent: paid → `{paymentIntent}`, anything else → Stripe.js's authentication error.
function challenge(stripe, clientSecret, intent, url) {
  return new Promise(function (resolve) {
    var modal = openModal(url);
    function listen(event) {
      var data = event.data;
      if (event.origin !== SIM || event.source !== modal.frame.contentWindow) {
        return;
      }
      if (!data || data.type !== THREE_DS_COMPLETE || data.payment_intent !== intent) {
        return;
      }
      window.removeEventListener("message", listen);
      modal.overlay.remove();
      resolve(afterChallenge(stripe, clientSecret));
    }
    window.addEventListener("message", listen);
  });
}

function afterChallenge(stripe, clientSecret) {
  return stripe.retrievePaymentIntent(clientSecret).then(function (result) {
    if (result.error || PAID.indexOf(result.paymentIntent.status) >= 0) {
      return result;
    }
    return { error: authenticationError(result.paymentIntent) };
  });
}

// The intent's own `last_payment_error` if it has one, with Stripe.js's wording for a
// failed authentication, and the intent attached.
function authenticationError(intent) {
  var last = intent.last_payment_error || {};
  var error = {};
  Object.keys(last).forEach(function (k) {
    error[k] = last[k];
  });
  error.type = last.type || "invalid_request_error";
  error.code = last.code || "payment_intent_authentication_failure";
  if (error.code === "payment_intent_authentication_failure" || !error.message) {
    error.message = AUTHENTICATION_FAILED;
  }
  error.payment_intent = intent;
  return error;
}

// A fixed full-viewport backdrop with the challenge page centred in an iframe.
function openModal(url) {
  var overlay = document.createElement("div");
  overlay.setAttribute("role", "dialog");
  overlay.setAttribute("aria-modal", "true");
  overlay.setAttribute("aria-label", "3D Secure authentication");
  setStyles(overlay, {
    position: "fixed", top: "0", left: "0", width: "100vw", height: "100vh", margin: "0",
    "z-index": "2147483647", background: "rgba(0, 0, 0, 0.5)", display: "flex",
    "align-items": "center", "justify-content": "center",
  });
  var frame = document.createElement("iframe");
  frame.name = "stripe-sim-challenge";
  frame.title = "3D Secure authentication";
  frame.src = url;
  setStyles(frame, {
    width: "500px", height: "600px", "max-width": "100%", "max-height": "100%", border: "none",
    "border-radius": "8px", background: "#fff", "box-shadow": "0 8px 32px rgba(0, 0, 0, 0.3)",
  });
  overlay.appendChild(frame);
  document.body.appendChild(overlay);
  frame.focus();
  return { overlay: overlay, frame: frame };
}
