/* interrupt.h: a process-wide request to stop running backtest loops early,
 * for embedders that run the engine on a worker thread (the Python binding:
 * Ctrl-C while a run is in progress). It is the flag SIGINT/SIGTERM set
 * (brs__interrupted() in core.h, interrupt.c): loops stop at their next safe
 * point and the run ends with res->interrupted set and nothing written. */
#ifndef BRS_CORE_INTERRUPT_H
#define BRS_CORE_INTERRUPT_H

/* Ask every running loop to stop; safe from any thread and from a signal handler. */
void brs__interrupt_request(void);
/* Withdraw the request (before starting a new run). */
void brs__interrupt_clear(void);
/* Nonzero while a request stands. */
int brs__interrupt_pending(void);

#endif
