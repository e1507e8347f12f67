/** `cadenza worker --config sagas/trading/cadenza.config.ts`: the trading saga with its simulated agents (defaults). */
import { tradingConfig } from './config.js';

export default tradingConfig().config;
