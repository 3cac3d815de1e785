import { randomUUID } from 'node:crypto';
import express, { type Express } from 'express';
import { authOf, type AuthClient } from '@access-manager/client';

interface Account {
  readonly id: string;
  readonly name: string;
  balance: number;
}

interface Transaction {
  readonly id: string;
  readonly accountId: string;
  readonly amount: number;
  readonly by: string;
}

/**
 * A tiny ledger: accounts and transactions per tenant, in memory. Every route is behind `requirePermission`,
 * which answers 401/403/503 itself; a handler runs only for an allowed caller and reads who it is from
 * `authOf(req)`.
 */
export function createLedgerApp(auth: AuthClient): Express {
  const accounts = new Map<string, Map<string, Account>>();
  const transactions: Transaction[] = [];
  const accountsOf = (tenantId: string) => {
    let tenant = accounts.get(tenantId);
    if (!tenant) accounts.set(tenantId, (tenant = new Map()));
    return tenant;
  };

  const app = express();
  app.disable('x-powered-by');
  app.use(express.json({ limit: '16kb' }));

  app.get('/accounts', auth.requirePermission('accounts', 'get'), (req, res) => {
    res.json({ items: [...accountsOf(authOf(req)!.tenantId).values()] });
  });

  app.post('/accounts', auth.requirePermission('accounts', 'post'), (req, res) => {
    const name: unknown = req.body?.name;
    if (typeof name !== 'string' || name.length === 0 || name.length > 100) {
      res.status(400).type('application/problem+json').send(JSON.stringify({ status: 400, title: 'Invalid request', code: 'LDG-0001', message: 'name: 1 to 100 characters' }));
      return;
    }
    const account: Account = { id: randomUUID(), name, balance: 0 };
    accountsOf(authOf(req)!.tenantId).set(account.id, account);
    res.status(201).json(account);
  });

  app.get('/transactions', auth.requirePermission('transactions', 'get'), (req, res) => {
    const mine = accountsOf(authOf(req)!.tenantId);
    res.json({ items: transactions.filter((t) => mine.has(t.accountId)) });
  });

  app.post('/transactions', auth.requirePermission('transactions', 'post'), (req, res) => {
    const { accountId, amount } = (req.body ?? {}) as { accountId?: unknown; amount?: unknown };
    const account = typeof accountId === 'string' ? accountsOf(authOf(req)!.tenantId).get(accountId) : undefined;
    if (!account || !Number.isSafeInteger(amount) || amount === 0) {
      res.status(400).type('application/problem+json').send(JSON.stringify({ status: 400, title: 'Invalid request', code: 'LDG-0002', message: 'an account of yours and a non-zero integer amount' }));
      return;
    }
    account.balance += amount as number;
    const transaction: Transaction = { id: randomUUID(), accountId: account.id, amount: amount as number, by: authOf(req)!.subject };
    transactions.push(transaction);
    res.status(201).json(transaction);
  });

  return app;
}
