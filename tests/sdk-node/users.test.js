// Users, accounts, sessions and JWTs with node-appwrite 27.1.0: users managed with the key, a
// server SDK acting as the user through setSession and setJWT, account.createJWT, and the errors.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { Account, AppwriteException, Client, ID, Query, Users } from "node-appwrite";
import { startEmulator, unique } from "./harness.js";

const PASSWORD = "password123";
let emu;
let users;

before(async () => {
  emu = await startEmulator();
  users = new Users(emu.client());
});

after(async () => {
  assert.equal(await emu.stop(), 0, "clean shutdown on SIGTERM");
});

async function rejects(promise, code, type, message) {
  await assert.rejects(promise, (e) => {
    assert.ok(e instanceof AppwriteException, String(e));
    assert.equal(e.code, code, e.message);
    assert.equal(e.type, type, e.message);
    if (message) assert.equal(e.message, message);
    return true;
  });
}

const asSession = (secret) => new Client().setEndpoint(emu.endpoint).setProject(emu.project).setSession(secret);
const asJWT = (jwt) => new Client().setEndpoint(emu.endpoint).setProject(emu.project).setJWT(jwt);

test("users: create, list, update, delete", async () => {
  const userId = unique("u");
  const email = `${userId}@example.com`;
  const user = await users.create({ userId, email, password: PASSWORD, name: "Ada" });
  assert.equal(user.email, email);
  assert.equal(user.hash, "argon2");
  assert.match(user.password, /^\$argon2id\$v=19\$m=2048,t=4,p=3\$/);
  assert.deepEqual({ ...user.hashOptions }, { type: "argon2", memoryCost: 2048, timeCost: 4, threads: 3 });
  assert.equal(user.targets[0].identifier, email);
  await rejects(users.create({ userId, email: `x${email}` }), 409, "user_already_exists");
  await rejects(users.create({ userId: ID.unique(), password: "short" }), 400, "general_argument_invalid");

  assert.equal((await users.updateName({ userId, name: "Grace" })).name, "Grace");
  assert.deepEqual((await users.updateLabels({ userId, labels: ["vip"] })).labels, ["vip"]);
  assert.equal((await users.updateStatus({ userId, status: false })).status, false);
  assert.deepEqual({ ...(await users.updatePrefs({ userId, prefs: { theme: "dark" } })) }, { theme: "dark" });
  const page = await users.list({ queries: [Query.equal("email", [email])] });
  assert.deepEqual(page.users.map((u) => [u.$id, u.name, u.status, u.labels]), [[userId, "Grace", false, ["vip"]]]);
  assert.equal((await users.list({ search: userId })).total, 1);
  await users.delete({ userId });
  await rejects(users.get({ userId }), 404, "user_not_found", "User with the requested ID could not be found.");
});

test("sessions: the SSR flow with setSession", async () => {
  const userId = unique("s");
  const email = `${userId}@example.com`;
  // Sign-up as a guest (no key), then sign in with the key to receive the secret.
  const made = await new Account(emu.client({ withKey: false })).create({ userId, email, password: PASSWORD });
  assert.equal(made.$id, userId);
  assert.equal(made.password, undefined, "the Account model has no password hash");
  const session = await new Account(emu.client()).createEmailPasswordSession({ email, password: PASSWORD });
  assert.equal(session.userId, userId);
  assert.equal(session.provider, "email");
  assert.ok(session.secret);
  const account = new Account(asSession(session.secret));
  assert.equal((await account.get()).$id, userId);
  const list = await account.listSessions();
  assert.deepEqual(list.sessions.map((s) => [s.$id, s.current]), [[session.$id, true]]);
  assert.equal((await users.listSessions({ userId })).total, 1);
  await rejects(account.createEmailPasswordSession({ email, password: PASSWORD }), 401, "user_session_already_exists");
  await rejects(new Account(emu.client({ withKey: false })).createEmailPasswordSession({ email, password: "wrong-password" }), 401, "user_invalid_credentials");

  // account.createJWT binds to the current session; the JWT then identifies the user.
  const { jwt } = await account.createJWT({ duration: 120 });
  assert.equal((await new Account(asJWT(jwt)).get()).$id, userId);
  await rejects(new Account(asJWT(jwt)).createJWT(), 404, "user_session_not_found");
  await rejects(new Account(asSession(session.secret).setJWT(jwt)).get(), 403, "user_jwt_and_cookie_set");
  await rejects(new Account(asJWT(`${jwt}x`)).get(), 401, "user_jwt_invalid", "Failed to verify JWT. Invalid token: Signature failed");

  await account.deleteSession({ sessionId: "current" });
  await rejects(account.get(), 401, "general_unauthorized_scope");
  await rejects(new Account(asJWT(jwt)).get(), 401, "general_unauthorized_scope");
});

test("sessions and JWTs created with the key", async () => {
  const userId = unique("k");
  await users.create({ userId, email: `${userId}@example.com`, password: PASSWORD });
  const session = await users.createSession({ userId });
  assert.equal(session.provider, "server");
  assert.ok(session.secret);
  const { jwt } = await users.createJWT({ userId, sessionId: session.$id, duration: 60 });
  assert.equal((await new Account(asJWT(jwt)).get()).$id, userId);
  await users.updateStatus({ userId, status: false });
  await rejects(new Account(asSession(session.secret)).get(), 403, "user_blocked", "The current user has been blocked.");
  await users.updateStatus({ userId, status: true });
  await users.deleteSession({ userId, sessionId: session.$id });
  await rejects(new Account(asJWT(jwt)).get(), 401, "general_unauthorized_scope");
  await rejects(users.deleteSession({ userId, sessionId: session.$id }), 404, "user_session_not_found");
});
