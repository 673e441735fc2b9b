// `stripe.elements()` and the card Element: an iframe on the sim's origin holds the inputs,
// so the card number stays out of the page; the page only hears events and pm_… ids.

// Element types Stripe.js has and the sim does not: refused with a clear message.
var OTHER_ELEMENTS = [
  "cardNumber", "cardExpiry", "cardCvc", "postalCode", "payment", "address",
  "linkAuthentication", "expressCheckout", "paymentRequestButton", "iban", "auBankAccount",
];

function Elements(stripe, options) {
  // Options (`fonts`, `locale`, `appearance`, `clientSecret`, …) are accepted and not used.
  this._stripe = stripe;
  this._card = null;
}

Elements.prototype.create = function (type, options) {
  if (type !== "card") {
    if (OTHER_ELEMENTS.indexOf(type) >= 0) {
      throw integrationError("stripe-sim's Stripe.js supports only the card Element; you passed: " + type + ".");
    }
    throw integrationError(
      "A valid Element name must be provided. Valid Elements are: card; you passed: " + describe(type) + "."
    );
  }
  if (this._card && !this._card._destroyed) {
    throw integrationError("Can only create one Element of type card.");
  }
  // Options (`style`, `hidePostalCode`, `classes`, `iconStyle`, …) are accepted and not used.
  this._card = new CardElement(this._stripe);
  return this._card;
};

function CardElement(stripe) {
  this._stripe = stripe;
  this._handlers = {};
  this._frame = null;
  this._wrapper = null;
  this._container = null;
  this._name = null;
  this._ready = null;
  this._markReady = null;
  this._requests = {};
  this._nextRequest = 1;
  this._destroyed = false;
}

function setStyles(node, styles) {
  // Property by property through the CSSOM, which a page's `style-src` CSP allows.
  Object.keys(styles).forEach(function (name) {
    node.style.setProperty(name, styles[name], "important");
  });
}

CardElement.prototype._alive = function () {
  if (this._destroyed) {
    throw integrationError("This Element has already been destroyed. Please create a new one.");
  }
};

function mountTarget(target) {
  var node = typeof target === "string" ? document.querySelector(target) : target;
  if (node && node.nodeType === 1) {
    return node;
  }
  if (typeof target === "string") {
    throw integrationError(
      "The selector you specified (" + target + ") applies to no DOM elements that are currently on the page.\nMake sure the element exists on the page before calling mount()."
    );
  }
  throw integrationError("Invalid DOM element. Make sure to call mount() with a valid DOM element or selector.");
}

CardElement.prototype.mount = function (target) {
  this._alive();
  if (this._frame) {
    throw integrationError("This Element is already mounted. Use `unmount()` to unmount the Element before re-mounting.");
  }
  var container = mountTarget(target);
  // A new name per mount: messages from an earlier frame of this Element are ignored.
  this._name = "__privateStripeFrame" + frameCounter++;
  var hash = new URLSearchParams({ origin: window.location.origin, frame: this._name, key: this._stripe._key });
  var frame = document.createElement("iframe");
  frame.name = this._name;
  frame.title = "Secure card payment input frame";
  frame.setAttribute("frameborder", "0");
  frame.setAttribute("allowtransparency", "true");
  frame.setAttribute("scrolling", "no");
  frame.setAttribute("allow", "payment *");
  frame.src = SIM + "/v3/elements/card#" + hash.toString();
  setStyles(frame, {
    border: "none", margin: "0", padding: "0", width: "1px", "min-width": "100%",
    height: "44px", overflow: "hidden", display: "block", "color-scheme": "normal",
  });
  var wrapper = document.createElement("div");
  wrapper.className = "__PrivateStripeElement";
  setStyles(wrapper, { margin: "0", padding: "0", border: "none", display: "block", position: "relative" });
  wrapper.appendChild(frame);
  var element = this;
  this._ready = new Promise(function (resolve) {
    element._markReady = resolve;
  });
  this._frame = frame;
  this._wrapper = wrapper;
  this._container = container;
  mounted[this._name] = this;
  container.classList.add("StripeElement", "StripeElement--empty");
  container.appendChild(wrapper);
};

CardElement.prototype.unmount = function () {
  this._alive();
  if (!this._frame) {
    return;
  }
  delete mounted[this._name];
  this._wrapper.remove();
  ["StripeElement", "StripeElement--empty", "StripeElement--complete", "StripeElement--invalid", "StripeElement--focus"]
    .forEach(function (c) {
      this._container.classList.remove(c);
    }, this);
  this._frame = this._wrapper = this._container = null;
  // Whoever waits for a PaymentMethod from the removed frame gets Stripe.js's answer.
  var requests = this._requests;
  this._requests = {};
  Object.keys(requests).forEach(function (id) {
    requests[id]({ error: notMounted() });
  });
};

CardElement.prototype.destroy = function () {
  this._alive();
  this.unmount();
  this._handlers = {};
  this._destroyed = true;
};

CardElement.prototype.focus = function () {
  this._alive();
  if (this._frame) {
    this._frame.focus();
    this._post({ action: "focus" });
  }
};

CardElement.prototype.clear = function () {
  this._alive();
  this._post({ action: "clear" });
};

CardElement.prototype.on = function (event, handler) {
  this._alive();
  if (typeof handler !== "function") {
    throw integrationError("When adding an event listener, the first argument should be a string event type and the second argument should be a function.");
  }
  (this._handlers[event] = this._handlers[event] || []).push(handler);
  return this;
};

CardElement.prototype.off = function (event, handler) {
  if (!handler) {
    delete this._handlers[event];
  } else if (this._handlers[event]) {
    this._handlers[event] = this._handlers[event].filter(function (h) {
      return h !== handler;
    });
  }
  return this;
};

CardElement.prototype._emit = function (event, payload) {
  (this._handlers[event] || []).slice().forEach(function (handler) {
    handler(payload);
  });
};

function notMounted() {
  return {
    type: "invalid_request_error",
    message: "We could not retrieve data from the specified Element. Please make sure the Element you are attempting to use is still mounted.",
  };
}

// Sends a message to the frame once it is ready (messages sent earlier would be lost).
CardElement.prototype._post = function (message) {
  if (!this._frame) {
    return;
  }
  var element = this;
  var name = this._name;
  this._ready.then(function () {
    if (element._frame && element._name === name) {
      message.type = FRAME_MESSAGE;
      message.frame = name;
      element._frame.contentWindow.postMessage(message, SIM);
    }
  });
};

// Asks the frame to create a card PaymentMethod; resolves the frame's answer:
// `{id}`, `{paymentMethod}` (when `object` is true) or `{error}`.
CardElement.prototype._createPaymentMethod = function (billingDetails, object) {
  if (this._destroyed || !this._frame) {
    return Promise.resolve({ error: notMounted() });
  }
  var element = this;
  var request = this._nextRequest++;
  return new Promise(function (resolve) {
    element._requests[request] = resolve;
    element._post({
      action: "createPaymentMethod",
      request: request,
      billing_details: billingDetails || null,
      object: !!object,
    });
  });
};

CardElement.prototype._classes = function (state) {
  var list = this._container && this._container.classList;
  if (!list) {
    return;
  }
  Object.keys(state).forEach(function (name) {
    list.toggle("StripeElement--" + name, state[name]);
  });
};

// A message from this Element's frame (origin and source already checked).
CardElement.prototype._receive = function (data) {
  var payload = data.payload || { elementType: "card" };
  switch (data.event) {
    case "ready":
      this._markReady();
      this._emit("ready", payload);
      break;
    case "change":
      this._classes({ empty: payload.empty, complete: payload.complete, invalid: !!payload.error });
      this._emit("change", payload);
      break;
    case "focus":
    case "blur":
      this._classes({ focus: data.event === "focus" });
      this._emit(data.event, payload);
      break;
    case "result":
      var resolve = this._requests[data.request];
      delete this._requests[data.request];
      if (resolve) {
        resolve(data.result);
      }
      break;
  }
};
