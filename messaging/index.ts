export { checkMessage, MessageSendError, messageSubject, messageText, recipientOf, type MessageSender, type OutboundMessage, type SendFailureReason } from './message-sender.js';
export {
  baseEndpoint,
  destinationSettings,
  emailAddress,
  hostName,
  httpEndpoint,
  phoneNumber,
  portNumber,
  providerCategories,
  providerKinds,
  providerTypes,
  secretText,
  sendGridSettings,
  smtpSettings,
  textLine,
  twilioSettings,
  webhookSettings,
  type ProviderCategory,
  type ProviderConfig,
  type ProviderType,
} from './provider-settings.js';
export { createMessageSender, defaultSendTimeoutMs, parseProviderConfig, type SenderOptions, type StoredProvider } from './sender-factory.js';
export { webhookSignature } from './webhook-sender.js';
export { createProviderCodeDelivery, type CodeMessage } from './provider-code-delivery.js';
