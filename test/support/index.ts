/**
 * Shared test harness for interop tests with real OpenSSH (and friends) on loopback.
 *   requireBinaries / requireOpenssh10  skip with the Debian package named when missing
 *   makeTempDir / freePort              temp dirs removed at exit; OS-chosen ports
 *   startSshd                           a real sshd (9.2 or 10.0) in a temp dir, DEBUG3 log
 *   runSsh / spawnSsh                   ssh, scp, sftp isolated from the machine's config
 *   startSshAgent                       a real ssh-agent on a private socket
 *   startPty                            a tmux pseudo-terminal: send keys, read the screen, resize
 *   generateKey / signCertificate       keys and certificates from the real ssh-keygen
 */
export * from './binaries.js';
export * from './cli-io.js';
export * from './keys.js';
export * from './process.js';
export * from './pty.js';
export * from './ssh-agent.js';
export * from './ssh-client.js';
export * from './sshd.js';
export * from './temp.js';
