/**
 * One relayed session channel: the client's channel (inbound) paired with a channel to the
 * target (outbound). Requests are checked per action (a shell is not permission to run sftp),
 * data flows between the two channel streams with backpressure that is the SSH window on each
 * side, the target's output of one task is merged into few writes (see queueOutput), and the
 * recorder taps both directions off the hot path (it only queues).
 */

import type { Readable, Writable } from 'node:stream';
import type { ChannelRequest } from '../connection/index.js';
import type { ChannelExit, SshChannel } from '../net/channel-stream.js';
import { drainedOrClosed } from '../net/drain.js';
import type { Action, Authorization, Decision } from '../policy/index.js';
import type { ChannelRecorder, SftpChannelAudit } from '../recording/index.js';

export interface SessionRelayHost {
  /** Policy decision for one action on this session's target and login (logged by the host). */
  authorize(action: Action, detail: string): Decision;
  /** Starts the asciicast of a shell or exec channel; rejects when the recording cannot be created. */
  openRecording(req: {
    kind: 'shell' | 'exec';
    pty: { cols: number; rows: number; term: string } | undefined;
    command: string | undefined;
    recordInput: boolean;
  }): Promise<ChannelRecorder>;
  openSftpAudit(): SftpChannelAudit;
  /** Counts relayed bytes (metrics). */
  relayed(direction: 'client-to-target' | 'target-to-client', bytes: number): void;
  /** The relay ended; `status` is the exit status when the target sent one. */
  ended(summary: RelaySummary): void;
}

export interface RelaySummary {
  readonly bytesToTarget: number;
  readonly bytesToClient: number;
  readonly exitStatus: number | undefined;
  readonly exitSignal: string | undefined;
  readonly action: Action | undefined;
}

/**
 * Target output of one task is merged into writes of up to this many bytes: what one packet to
 * an OpenSSH client carries (its session channels' maximum packet). Larger chunks pass as they are.
 */
const MERGE_LIMIT = 32 * 1024;

/** Environment variables are forwarded only when the rule's allow-list names them. */
const MAX_HELD_ENV = 64;

export class SessionRelay {
  private pty: { cols: number; rows: number; term: string } | undefined;
  private readonly heldEnv: { name: string; value: string }[] = [];
  private started = false;
  private action: Action | undefined;
  private recorder: ChannelRecorder | undefined;
  private sftp: SftpChannelAudit | undefined;
  private bytesToTarget = 0;
  private bytesToClient = 0;
  private exitStatus: number | undefined;
  private exitSignal: string | undefined;
  private done = false;
  /** Target output of the current task after its first chunk, not yet delivered (see queueOutput). */
  private inTask = false;
  private outQueue: { readonly chunk: Uint8Array; readonly stderr: boolean }[] = [];
  private outQueued = 0;
  private readonly holdStdout: (recorderPressure: boolean) => void;
  private readonly holdStderr: (recorderPressure: boolean) => void;
  /** The authorization the running action holds, for re-evaluation on policy reload. */
  authorization: Authorization | undefined;

  constructor(
    private readonly client: SshChannel,
    private readonly target: SshChannel,
    private readonly host: SessionRelayHost,
    /** A forced command (certificate force-command) replaces whatever the client asks to run. */
    private readonly forceCommand: string | null,
  ) {
    this.holdStdout = this.holder(target, client);
    this.holdStderr = this.holder(target.stderr, client.stderrOut);
    client.requestHandler = (req) => this.onClientRequest(req);
    target.requestHandler = () => false;
    target.on('exit', (status: number | null, signal: string | null) => this.onTargetExit(status, signal));
    target.on('request', (req: ChannelRequest) => {
      if (req.type !== 'eow@openssh.com') return;
      this.flushOutput();
      void client.request(req, false).catch(() => {});
    });

    // Target → client, stdout and stderr, each tapped for the recording (see queueOutput).
    target.on('data', (chunk: Uint8Array) => this.queueOutput(chunk, false));
    target.stderr.on('data', (chunk: Uint8Array) => this.queueOutput(chunk, true));
    // No EOF on the target's EOF: the client channel would finish both ways and close before
    // the target's exit-status (which sshd may send after its EOF) could be relayed. The
    // target's CHANNEL_CLOSE ends it instead (closeWhenFlushed: EOF after the data, then CLOSE).

    // Client → target: keystrokes and uploads, passed on as they come.
    const upload = this.holder(client, target);
    client.on('data', (chunk: Uint8Array) => {
      this.bytesToTarget += chunk.length;
      this.host.relayed('client-to-target', chunk.length);
      this.sftp?.fromClient(chunk);
      const recorded = this.recorder?.input(chunk);
      const ok = target.writable ? target.write(chunk) : true;
      if (!ok || recorded === 'pressure') upload(recorded === 'pressure');
    });
    client.once('end', () => target.end());

    client.once('close', () => {
      if (!target.isClosed) target.destroy();
      this.finish();
    });
    target.once('close', () => {
      // Everything the target sent must reach the client before its channel closes, and its
      // exit status goes out behind that output (sshd's order), not ahead of what still waits
      // for the client's window.
      this.flushOutput();
      if (!client.isClosed) client.closeWhenFlushed(this.exitResult());
      this.finish();
    });
    client.on('error', () => {});
    target.on('error', () => {});
  }

  /**
   * What holds `src` back: it pauses until `dst` drains and, under recorder pressure, until the
   * recording queue is below its high-water mark. So a fast sender can grow neither our memory
   * nor the recording's queue by more than a window.
   */
  private holder(src: Readable, dst: Writable): (recorderPressure: boolean) => void {
    let holding = false;
    return (recorderPressure) => {
      if (holding) return;
      holding = true;
      src.pause();
      void (async () => {
        await drainedOrClosed(dst);
        if (recorderPressure && this.recorder) await this.recorder.whenDrained();
        holding = false;
        if (!src.destroyed) src.resume();
      })();
    };
  }

  /**
   * Target output of one task (every packet of one socket read is decrypted in one go) goes on
   * in few writes and recording events instead of one per packet: the first chunk at once, so a
   * keystroke's echo waits for nothing, and the rest at the end of the task, adjacent chunks of
   * one stream merged up to MERGE_LIMIT. A terminal's output arrives a few KiB a packet (sshd
   * reads the pty that way), eight and more packets a read under load, and each write to the
   * client is a packet encrypted twice on `ssh -J`. Order is kept across stdout and stderr, and
   * anything that must follow the output (exit status, eow, close, a gateway message) flushes
   * it first.
   */
  private queueOutput(chunk: Uint8Array, stderr: boolean): void {
    if (chunk.length === 0) return;
    if (!this.inTask) {
      this.inTask = true;
      queueMicrotask(this.endOfTask);
      this.deliver(chunk, stderr);
      return;
    }
    // What is queued goes first when this chunk would take it past one full write.
    if (this.outQueued + chunk.length > MERGE_LIMIT) this.flushOutput();
    if (chunk.length >= MERGE_LIMIT) {
      this.deliver(chunk, stderr);
      return;
    }
    this.outQueue.push({ chunk, stderr });
    this.outQueued += chunk.length;
  }

  private readonly endOfTask = (): void => {
    this.inTask = false;
    this.flushOutput();
  };

  /** Delivers the queued output (at most MERGE_LIMIT bytes), adjacent chunks of one stream merged. */
  private flushOutput(): void {
    const queue = this.outQueue;
    if (queue.length === 0) return;
    this.outQueue = [];
    this.outQueued = 0;
    let run: Uint8Array[] = [];
    let runBytes = 0;
    let runStderr = false;
    const flushRun = (): void => {
      const only = run[0];
      if (only === undefined) return;
      this.deliver(run.length === 1 ? only : Buffer.concat(run, runBytes), runStderr);
      run = [];
      runBytes = 0;
    };
    for (const { chunk, stderr } of queue) {
      if (run.length > 0 && stderr !== runStderr) flushRun();
      run.push(chunk);
      runBytes += chunk.length;
      runStderr = stderr;
    }
    flushRun();
  }

  /** One piece of target output: counted, recorded, written to the client. */
  private deliver(chunk: Uint8Array, stderr: boolean): void {
    this.bytesToClient += chunk.length;
    this.host.relayed('target-to-client', chunk.length);
    if (!stderr) this.sftp?.fromServer(chunk);
    const recorded = this.recorder?.output(chunk, stderr ? 'stderr' : 'stdout');
    const dst = stderr ? this.client.stderrOut : this.client;
    const ok = dst.writable ? dst.write(chunk) : true;
    if (!ok || recorded === 'pressure') (stderr ? this.holdStderr : this.holdStdout)(recorded === 'pressure');
  }

  /**
   * Replays requests the client made before the target existed (the target menu answered its
   * pty-req and shell itself); their replies already went to the client.
   */
  async replay(requests: readonly ChannelRequest[]): Promise<boolean> {
    let ok = true;
    for (const r of requests) ok = (await this.onClientRequest(r)) && ok;
    return ok;
  }

  /** Writes a line to the client's stderr (denials, policy notes), behind the output before it. */
  tellClient(message: string): void {
    this.flushOutput();
    if (!this.client.isClosed && this.client.stderrOut.writable) this.client.stderrOut.write(`gatehouse: ${message}\r\n`);
  }

  /**
   * Refuses a shell, exec or subsystem request so that the user reads why. A failure reply makes
   * OpenSSH quit at once, often before it has written the stderr line we sent with it (the
   * message was lost about one time in four); so the request is accepted and, once that reply is
   * out, the channel ends with the message on stderr and exit status 1, which ssh always prints.
   */
  private refuse(message: string): void {
    this.started = true;
    setImmediate(() => {
      this.tellClient(message);
      if (!this.client.isClosed) this.client.exit({ status: 1 });
      if (!this.target.isClosed) this.target.destroy();
    });
  }

  /** Ends the relay from the gateway side (revocation, kill, recording failure). */
  terminate(message: string): void {
    this.tellClient(message);
    this.recorder?.marker(`terminated: ${message}`);
    if (!this.client.isClosed) this.client.exit({ signal: 'TERM' });
    if (!this.target.isClosed) this.target.destroy();
    if (!this.client.isClosed) this.client.closeWhenFlushed();
  }

  private async onClientRequest(req: ChannelRequest): Promise<boolean> {
    switch (req.type) {
      case 'pty-req':
        this.pty = { cols: req.cols, rows: req.rows, term: req.term };
        return this.target.request(req, true);
      case 'env':
        if (this.started) return false;
        if (this.heldEnv.length < MAX_HELD_ENV) this.heldEnv.push({ name: req.name, value: req.value });
        return true;
      case 'shell':
        return this.start(req, this.forceCommand === null ? 'shell' : 'exec', this.forceCommand ?? undefined);
      case 'exec':
        return this.start(req, 'exec', this.forceCommand ?? req.command);
      case 'subsystem':
        if (req.name !== 'sftp') {
          this.tellClient(`subsystem "${req.name}" is not relayed`);
          return false;
        }
        return this.start(req, 'sftp', undefined);
      case 'window-change':
        this.recorder?.resize(req.cols, req.rows);
        if (this.pty) this.pty = { ...this.pty, cols: req.cols, rows: req.rows };
        return this.target.request(req, false).then(() => true);
      case 'signal':
        this.recorder?.marker(`signal ${req.signal}`);
        return this.target.request(req, false).then(() => true);
      case 'break':
        return this.target.request(req, true);
      case 'x11-req':
        this.tellClient('X11 forwarding is refused');
        return false;
      case 'auth-agent-req@openssh.com':
        // Agent forwarding into the target is decided per policy by the agent relay (not here).
        return false;
      case 'xon-xoff':
        return this.target.request(req, false).then(() => true);
      case 'exit-status':
      case 'exit-signal':
      case 'eow@openssh.com':
      case 'unknown':
        return false;
      default: {
        const never: never = req;
        throw new Error(`unhandled channel request ${String(never)}`);
      }
    }
  }

  private async start(req: ChannelRequest, action: Action, command: string | undefined): Promise<boolean> {
    if (this.started) return false;
    const decision = this.host.authorize(action, command ?? (action === 'sftp' ? 'sftp' : 'shell'));
    if (!decision.allowed) {
      this.refuse(`denied: ${decision.reason}`);
      return true;
    }
    this.started = true;
    this.action = action;
    this.authorization = decision;
    for (const env of this.heldEnv) {
      if (decision.allowsEnv(env.name)) await this.target.request({ type: 'env', name: env.name, value: env.value }, false);
    }
    try {
      if (action === 'sftp') this.sftp = this.host.openSftpAudit();
      else {
        this.recorder = await this.host.openRecording({
          kind: action === 'shell' ? 'shell' : 'exec',
          pty: this.pty,
          command,
          recordInput: decision.recording.input,
        });
      }
    } catch (e) {
      this.refuse(`session refused: ${e instanceof Error ? e.message : 'recording unavailable'}`);
      return true;
    }
    const forwarded: ChannelRequest =
      command !== undefined && action === 'exec'
        ? { type: 'exec', command, commandBytes: new TextEncoder().encode(command) }
        : req;
    return this.target.request(forwarded, true);
  }

  /** Noted here; relayed to the client when the target's channel closes (see the constructor). */
  private onTargetExit(status: number | null, signal: string | null): void {
    this.flushOutput();
    if (status !== null) {
      this.exitStatus = status;
      this.recorder?.setExit({ type: 'status', status });
      this.sftp?.setExitStatus(status);
    } else if (signal !== null) {
      this.exitSignal = signal;
      this.recorder?.setExit({ type: 'signal', signal });
    }
  }

  private exitResult(): ChannelExit | undefined {
    if (this.exitStatus !== undefined) return { status: this.exitStatus };
    if (this.exitSignal !== undefined) return { signal: this.exitSignal };
    return undefined;
  }

  private finish(): void {
    // The recording and the client get what the last task queued (a client's close ends it).
    this.flushOutput();
    if (this.done) return;
    this.done = true;
    this.sftp?.close();
    this.host.ended({
      bytesToTarget: this.bytesToTarget,
      bytesToClient: this.bytesToClient,
      exitStatus: this.exitStatus,
      exitSignal: this.exitSignal,
      action: this.action,
    });
  }

  get channelRecorder(): ChannelRecorder | undefined {
    return this.recorder;
  }
}
