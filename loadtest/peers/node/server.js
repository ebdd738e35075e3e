// socket.io with @socket.io/redis-adapter: the usual Node.js way.
//   PORT=8001 WORKERS=2 REDIS_SOCKET=/path/redis.sock node server.js
// WORKERS > 1 forks node:cluster workers sharing the port (websocket transport only, so no
// sticky sessions are needed); rooms span workers through the Redis adapter.
"use strict";
const cluster = require("node:cluster");
const http = require("node:http");
const { Server } = require("socket.io");
const { createAdapter } = require("@socket.io/redis-adapter");
const { createClient } = require("redis");

const port = Number(process.env.PORT);
const workers = Number(process.env.WORKERS || 1);
const redisSocket = process.env.REDIS_SOCKET;

async function main() {
  const pub = createClient({ socket: { path: redisSocket } });
  const sub = pub.duplicate();
  await Promise.all([pub.connect(), sub.connect()]);
  const httpServer = http.createServer();
  const io = new Server(httpServer, {
    transports: ["websocket"], perMessageDeflate: false, serveClient: false,
    adapter: createAdapter(pub, sub), pingInterval: 20000, pingTimeout: 20000,
    maxHttpBufferSize: 1 << 24,
  });
  io.on("connection", (socket) => {
    socket.on("subscribe", (topic) => {
      socket.join(topic);
      socket.emit("subscribed", { topic, type: "subscribed" });
    });
    socket.on("publish", (msg) => {
      const ts = Date.now();
      for (const it of msg.items) {
        io.to(it.topic).emit("msg", { topic: it.topic, seq: it.seq, ts, type: it.type, data: it.data });
      }
    });
  });
  httpServer.listen({ port, host: "127.0.0.1", backlog: 4096 });
}

if (cluster.isPrimary && workers > 1) {
  for (let i = 0; i < workers; i++) cluster.fork();
  cluster.on("exit", () => process.exit(1));
  for (const sig of ["SIGTERM", "SIGINT"]) {
    process.on(sig, () => { for (const w of Object.values(cluster.workers)) w.kill(); process.exit(0); });
  }
} else {
  main().catch((err) => { console.error(err); process.exit(1); });
}
