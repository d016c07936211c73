/**
 * The gateway under test is the real `wsgate` command (bin/wsgate.ts, flags from the driver),
 * forked as its own process so its RSS and CPU can be read from /proc/<pid> apart from the
 * clients'. It drains and exits when the driver that forked it goes away.
 */
import '../bin/wsgate.js';

process.on('disconnect', () => process.kill(process.pid, 'SIGTERM'));
