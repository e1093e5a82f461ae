// A graphql-transport-ws client: authenticates in connection_init, re-subscribes after every
// reconnect, and backs off (0.5 s doubling to 30 s, with jitter) while the server is away.

const PROTOCOL = "graphql-transport-ws";
const REFUSED = [4401, 4403]; // bad token, not a member: retrying cannot help

export class Live {
  /** onState(state, detail): "connecting" | "online" | "offline" (detail: seconds to retry) | "refused" */
  constructor({ token, orgId, onState, onReconnect }) {
    this.params = { authorization: `Bearer ${token}`, orgId };
    this.onState = onState;
    this.onReconnect = onReconnect;
    this.subscriptions = new Map();
    this.nextId = 1;
    this.attempt = 0;
    this.everConnected = false;
    this.closed = false;
    this.onNetwork = () => this.retryNow();
    window.addEventListener("online", this.onNetwork);
    this.connect();
  }

  subscribe(query, variables, next) {
    const id = String(this.nextId++);
    this.subscriptions.set(id, { query, variables, next });
    if (this.acked) this.send({ id, type: "subscribe", payload: { query, variables } });
    return id;
  }

  close() {
    this.closed = true;
    clearTimeout(this.timer);
    window.removeEventListener("online", this.onNetwork);
    this.ws?.close(1000, "bye");
  }

  retryNow() {
    if (this.closed || (this.ws && this.ws.readyState <= WebSocket.OPEN)) return;
    clearTimeout(this.timer);
    this.connect();
  }

  send(message) {
    this.ws.send(JSON.stringify(message));
  }

  connect() {
    this.acked = false;
    this.onState("connecting");
    const url = location.origin.replace(/^http/, "ws") + "/graphql";
    const ws = (this.ws = new WebSocket(url, PROTOCOL));
    ws.onopen = () => this.send({ type: "connection_init", payload: this.params });
    ws.onmessage = (event) => this.receive(JSON.parse(event.data));
    ws.onclose = (event) => this.closedBy(event);
  }

  receive(message) {
    switch (message.type) {
      case "connection_ack":
        this.acked = true;
        this.attempt = 0;
        this.onState("online");
        for (const [id, { query, variables }] of this.subscriptions) {
          this.send({ id, type: "subscribe", payload: { query, variables } });
        }
        if (this.everConnected) this.onReconnect?.(); // events may have been missed meanwhile
        this.everConnected = true;
        break;
      case "next":
        this.subscriptions.get(message.id)?.next(message.payload.data);
        break;
      case "ping":
        this.send({ type: "pong" });
        break;
      case "error":
        console.warn("subscription refused", message.payload);
        break;
    }
  }

  closedBy(event) {
    if (this.closed) return;
    if (REFUSED.includes(event.code)) {
      this.onState("refused", event.reason);
      return;
    }
    const delay = Math.min(30, 0.5 * 2 ** this.attempt++) * (0.8 + Math.random() * 0.4);
    this.onState("offline", Math.ceil(delay));
    this.timer = setTimeout(() => this.connect(), delay * 1000);
  }
}
