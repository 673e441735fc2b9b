// The core: where the sim is, `Stripe(key)`, calls to the API, messages from the frames.

// The sim's API and frames live where this script was loaded from: the page may reach the
// sim as 127.0.0.1 or localhost or through a proxy, and only the script's own URL says which.
var SIM = (function () {
  var me = document.currentScript;
  try {
    if (me && me.src) {
      return new URL(me.src).origin;
    }
  } catch (ignored) {
    // fall through to the address the sim knows itself by
  }
  return new URL("__STRIPE_SIM_BASE__").origin;
})();

// The `type` of every message between this script and the card frames.
var FRAME_MESSAGE = "stripe-sim";
// The `type` of the message the 3-D Secure completion page sends.
var THREE_DS_COMPLETE = "stripe-sim-3ds-complete";

// Mounted card Elements by frame name, to route the frames' messages.
var mounted = {};
var frameCounter = Math.floor(Math.random() * 9000) + 1000;

function integrationError(message) {
  var error = new Error(message);
  error.name = "IntegrationError";
  return error;
}

function describe(value) {
  return typeof value === "string" ? value : String(value);
}

function Stripe(key, options) {
  if (!(this instanceof Stripe)) {
    return new Stripe(key, options);
  }
  if (typeof key !== "string") {
    throw integrationError(
      "Invalid value for Stripe(): apiKey should be a string. You specified: " + describe(key) + "."
    );
  }
  if (key === "") {
    throw integrationError("Please call Stripe() with your publishable key. You used an empty string.");
  }
  if (key.indexOf("sk_") === 0 || key.indexOf("rk_") === 0) {
    throw integrationError(
      "You should not use your secret key with Stripe.js.\nPlease pass a publishable key instead."
    );
  }
  if (key.indexOf("pk_") !== 0) {
    throw integrationError("Invalid value for Stripe(): apiKey should be a publishable key (pk_…). You specified: " + key + ".");
  }
  // Options (`stripeAccount`, `locale`, `apiVersion`, …) are accepted and not used.
  this._key = key;
}

// Stripe.js's answer when the API cannot be reached at all.
function connectionError() {
  return {
    type: "api_connection_error",
    message: "An error occurred with our connection to Stripe. Request was retried 0 times.",
  };
}

// Appends `value` as Stripe's bracket form fields (`billing_details[address][city]`).
function appendForm(form, name, value) {
  if (value === undefined || value === null) {
    return;
  }
  if (typeof value === "object") {
    Object.keys(value).forEach(function (k) {
      appendForm(form, name + "[" + k + "]", value[k]);
    });
    return;
  }
  form.append(name, String(value));
}

// One API call as Stripe.js makes it: the publishable key as the `key` parameter and a form
// body without custom headers, so the browser sends it without a CORS preflight. Resolves
// `{ok: object}` or `{error: Stripe's error object}`; never rejects.
function api(method, path, key, params) {
  var form = new URLSearchParams();
  form.append("key", key);
  Object.keys(params).forEach(function (name) {
    appendForm(form, name, params[name]);
  });
  var url = SIM + "/v1" + path;
  var init = { method: method, credentials: "omit" };
  if (method === "GET") {
    url += "?" + form.toString();
  } else {
    init.body = form;
  }
  return fetch(url, init).then(
    function (response) {
      return response.json().then(
        function (json) {
          return response.ok ? { ok: json } : { error: json.error || connectionError() };
        },
        connectionErrorResult
      );
    },
    connectionErrorResult
  );
}

function connectionErrorResult() {
  return { error: connectionError() };
}

// The PaymentIntent id is the client secret's part before `_secret_`.
function intentId(clientSecret, method) {
  var at = typeof clientSecret === "string" ? clientSecret.indexOf("_secret_") : -1;
  if (at < 4 || clientSecret.indexOf("pi_") !== 0) {
    throw integrationError(
      "Invalid value for " + method + ": clientSecret should be a client secret of the form ${id}_secret_${secret}. You specified: " +
        describe(clientSecret) + "."
    );
  }
  return clientSecret.slice(0, at);
}

Stripe.prototype.elements = function (options) {
  return new Elements(this, options);
};

// Messages from the card frames: only from the sim's origin and from the frame they name.
window.addEventListener("message", function (event) {
  var data = event.data;
  if (event.origin !== SIM || !data || data.type !== FRAME_MESSAGE) {
    return;
  }
  var element = mounted[data.frame];
  if (element && element._frame && event.source === element._frame.contentWindow) {
    element._receive(data);
  }
});

window.Stripe = Stripe;
