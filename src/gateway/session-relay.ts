/**
 * One relayed session channel: the client's channel (inbound) paired with a channel to the
 * target (outbound). Requests are checked per action (a shell is not permission to run sftp),
 * data flows through Node stream pipes whose backpressure is the SSH window on each side, and
 * the recorder taps both directions off the hot path (it only queues).
 */

import type { Readable, Writable } from 'node:stream';
import type { ChannelRequest } from '../connection/index.js';
import type { ChannelExit, SshChannel } from '../net/channel-stream.js';
import { drainedOrClosed } from '../net/drain.js';
import type { Action, Authorization, Decision } from '../policy/index.js';
import type { ChannelRecorder, PushResult, SftpChannelAudit } from '../recording/index.js';

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
  /** The authorization the running action holds, for re-evaluation on policy reload. */
  authorization: Authorization | undefined;

  constructor(
    private readonly client: SshChannel,
    private readonly target: SshChannel,
    private readonly host: SessionRelayHost,
    /** A forced command (certificate force-command) replaces whatever the client asks to run. */
    private readonly forceCommand: string | null,
  ) {
    client.requestHandler = (req) => this.onClientRequest(req);
    target.requestHandler = () => false;
    target.on('exit', (status: number | null, signal: string | null) => this.onTargetExit(status, signal));
    target.on('request', (req: ChannelRequest) => {
      if (req.type === 'eow@openssh.com') void client.request(req, false).catch(() => {});
    });

    // Target → client, stdout and stderr, each tapped for the recording. The source pauses
    // while the destination's window is full OR the recorder's queue is above its high-water
    // mark, so a fast target can neither grow our memory nor overflow the recording.
    this.pump(target, client, (chunk) => {
      this.bytesToClient += chunk.length;
      this.host.relayed('target-to-client', chunk.length);
      this.sftp?.fromServer(chunk);
      return this.recorder?.output(chunk, 'stdout');
      // No EOF on the target's EOF: the client channel would finish both ways and close before
      // the target's exit-status (which sshd may send after its EOF) could be relayed. The
      // target's CHANNEL_CLOSE ends it instead (closeWhenFlushed: EOF after the data, then CLOSE).
    }, false);
    this.pump(target.stderr, client.stderrOut, (chunk) => {
      this.bytesToClient += chunk.length;
      this.host.relayed('target-to-client', chunk.length);
      return this.recorder?.output(chunk, 'stderr');
    }, false);
    this.pump(client, target, (chunk) => {
      this.bytesToTarget += chunk.length;
      this.host.relayed('client-to-target', chunk.length);
      this.sftp?.fromClient(chunk);
      return this.recorder?.input(chunk);
    }, true);

    const finish = (): void => this.finish();
    client.once('close', () => {
      if (!target.isClosed) target.destroy();
      finish();
    });
    target.once('close', () => {
      // Everything the target sent must reach the client before its channel closes, and its
      // exit status goes out behind that output (sshd's order), not ahead of what still waits
      // for the client's window.
      if (!client.isClosed) client.closeWhenFlushed(this.exitResult());
      finish();
    });
    client.on('error', () => {});
    target.on('error', () => {});
  }

  /** Copies src to dst with backpressure from both dst and the recorder (see the constructor). */
  private pump(src: Readable, dst: Writable, tap: (chunk: Uint8Array) => PushResult | undefined, end: boolean): void {
    let holding = false;
    const hold = async (recorderPressure: boolean): Promise<void> => {
      if (holding) return;
      holding = true;
      src.pause();
      await drainedOrClosed(dst);
      if (recorderPressure && this.recorder) await this.recorder.whenDrained();
      holding = false;
      if (!src.destroyed) src.resume();
    };
    src.on('data', (chunk: Uint8Array) => {
      const recorded = tap(chunk);
      const ok = dst.writable ? dst.write(chunk) : true;
      if (!ok || recorded === 'pressure') void hold(recorded === 'pressure');
    });
    if (end) src.once('end', () => dst.end());
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

  /** Writes a line to the client's stderr (denials, policy notes). */
  tellClient(message: string): void {
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
