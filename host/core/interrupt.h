/* interrupt.h: a process-wide request to stop running backtest loops early,
 * for embedders that run the engine on a worker thread (the Python binding:
 * Ctrl-C while a run is in progress). Loops poll it every few thousand events
 * and fail the run ("interrupted"), so nothing half-made is written. */
#ifndef BRS_CORE_INTERRUPT_H
#define BRS_CORE_INTERRUPT_H

/* Ask every running loop to stop; safe from any thread and from a signal handler. */
void brs__interrupt_request(void);
/* Withdraw the request (before starting a new run). */
void brs__interrupt_clear(void);
/* Nonzero while a request stands. */
int brs__interrupt_pending(void);

#endif
