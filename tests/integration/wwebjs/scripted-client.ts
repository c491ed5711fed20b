import { EventEmitter } from 'node:events';
import type WAWebJS from 'whatsapp-web.js';
import type { WwebjsClient, WwebjsEventArgs, WwebjsEventName, WwebjsLibrary } from '../../../src/actors/engines/wwebjs-library.js';
import { loadWwebjsLibrary } from '../../../src/actors/engines/wwebjs-library.js';

/**
 * A stand-in for whatsapp-web.js' `Client`, typed by the package's index.d.ts: it `implements` the
 * members the engine uses (`WwebjsClient`, picked from `WAWebJS.Client`), emits the same event names
 * with the argument types `Client.on` declares (`WwebjsEventArgs`), and hands out complete
 * `WAWebJS.Message` / `WAWebJS.Chat` objects. The test scripts what the network does.
 */

function notScripted(name: string): () => Promise<never> {
  return () => Promise.reject(new Error(`${name} is not scripted`));
}

export interface MessageInit {
  id: string;
  from: string;
  to: string;
  fromMe: boolean;
  body?: string;
  /** Unix seconds. */
  timestamp: number;
  type?: WAWebJS.MessageTypes;
  ack?: WAWebJS.MessageAck;
  author?: string;
  media?: { mimetype: string; filename: string | null; size: number; base64: string };
}

/** A complete whatsapp-web.js Message (every member of the interface), as the client emits them. */
export function scriptedMessage(init: MessageInit, library?: WwebjsLibrary): WAWebJS.Message {
  const remote = init.fromMe ? init.to : init.from;
  const media = init.media;
  return {
    ack: init.ack ?? (0 as WAWebJS.MessageAck),
    author: init.author,
    deviceType: 'android',
    body: init.body ?? '',
    broadcast: false,
    isStatus: false,
    isGif: false,
    isEphemeral: false,
    from: init.from,
    fromMe: init.fromMe,
    hasMedia: media !== undefined,
    hasQuotedMsg: false,
    hasReaction: false,
    duration: '',
    id: { fromMe: init.fromMe, remote, id: init.id, _serialized: `${init.fromMe}_${remote}_${init.id}` },
    isForwarded: false,
    forwardingScore: 0,
    isStarred: false,
    // whatsapp-web.js leaves it undefined on messages that are not locations.
    location: undefined as unknown as WAWebJS.Location,
    vCards: [],
    mentionedIds: [],
    groupMentions: [],
    timestamp: init.timestamp,
    to: init.to,
    type: init.type ?? ('chat' as WAWebJS.MessageTypes),
    links: [],
    orderId: '',
    rawData: media === undefined ? {} : { mimetype: media.mimetype, filename: media.filename, size: media.size },
    pollName: '',
    pollOptions: [],
    allowMultipleAnswers: false,
    eventStartTime: 0,
    isEventCaneled: false,
    reload: notScripted('reload'),
    acceptGroupV4Invite: notScripted('acceptGroupV4Invite'),
    delete: notScripted('delete'),
    downloadMedia: async () => {
      if (media === undefined || library === undefined) throw new Error('downloadMedia is not scripted');
      return library.createMedia(media.mimetype, media.base64, media.filename);
    },
    getChat: notScripted('getChat'),
    getContact: notScripted('getContact'),
    getMentions: notScripted('getMentions'),
    getGroupMentions: notScripted('getGroupMentions'),
    getQuotedMessage: notScripted('getQuotedMessage'),
    reply: notScripted('reply'),
    react: notScripted('react'),
    forward: notScripted('forward'),
    star: notScripted('star'),
    unstar: notScripted('unstar'),
    pin: notScripted('pin'),
    unpin: notScripted('unpin'),
    getInfo: notScripted('getInfo'),
    getOrder: notScripted('getOrder'),
    getPayment: notScripted('getPayment'),
    getPollVotes: notScripted('getPollVotes'),
    getReactions: notScripted('getReactions'),
    edit: notScripted('edit'),
    editScheduledEvent: notScripted('editScheduledEvent'),
    vote: notScripted('vote'),
  };
}

export interface ChatInit {
  id: string;
  name: string;
  isGroup?: boolean;
  unreadCount?: number;
  /** Unix seconds of the last activity. */
  timestamp: number;
  messages: WAWebJS.Message[];
}

/** A complete whatsapp-web.js Chat whose `fetchMessages` returns the scripted history (last `limit`). */
export function scriptedChat(init: ChatInit): WAWebJS.Chat {
  const [user = '', server = ''] = init.id.split('@');
  const last = init.messages[init.messages.length - 1];
  return {
    archived: false,
    id: { server, user, _serialized: init.id },
    isGroup: init.isGroup ?? false,
    isReadOnly: false,
    isMuted: false,
    muteExpiration: 0,
    name: init.name,
    timestamp: init.timestamp,
    unreadCount: init.unreadCount ?? 0,
    lastMessage: last as WAWebJS.Message,
    pinned: false,
    isLocked: false,
    archive: notScripted('archive'),
    pin: notScripted('pin'),
    unpin: notScripted('unpin'),
    clearMessages: notScripted('clearMessages'),
    clearState: notScripted('clearState'),
    delete: notScripted('delete'),
    fetchMessages: async (search: WAWebJS.MessageSearchOptions) => init.messages.slice(-(search.limit ?? init.messages.length)),
    mute: notScripted('mute'),
    sendMessage: notScripted('sendMessage'),
    sendSeen: notScripted('sendSeen'),
    sendStateRecording: notScripted('sendStateRecording'),
    sendStateTyping: notScripted('sendStateTyping'),
    unarchive: notScripted('unarchive'),
    unmute: notScripted('unmute'),
    getContact: notScripted('getContact'),
    markUnread: notScripted('markUnread'),
    getLabels: notScripted('getLabels'),
    changeLabels: notScripted('changeLabels'),
    getPinnedMessages: notScripted('getPinnedMessages'),
    syncHistory: notScripted('syncHistory'),
    addOrEditCustomerNote: notScripted('addOrEditCustomerNote'),
    getCustomerNote: notScripted('getCustomerNote'),
  };
}

export function scriptedInfo(number: string, pushname: string): WAWebJS.ClientInfo {
  const wid = { server: 'c.us', user: number, _serialized: `${number}@c.us` };
  return {
    me: wid,
    wid,
    phone: { wa_version: '', os_version: '', device_manufacturer: '', device_model: '', os_build_number: '' },
    platform: 'android',
    pushname,
    getBatteryStatus: notScripted('getBatteryStatus'),
  };
}

export interface Call {
  method: string;
  args: unknown[];
}

export class ScriptedClient extends EventEmitter implements WwebjsClient {
  info!: WAWebJS.ClientInfo;
  pupBrowser?: WAWebJS.Client['pupBrowser'];
  readonly calls: Call[] = [];
  chats: WAWebJS.Chat[] = [];
  readonly messages = new Map<string, WAWebJS.Message>();
  readonly profilePics = new Map<string, string>();
  readonly lids = new Map<string, string>();
  /** What `initialize()` does; default: resolves at once (the page loaded). */
  initializeImpl: () => Promise<void> = async () => {};
  stateImpl: () => Promise<WAWebJS.WAState> = async () => 'CONNECTED' as WAWebJS.WAState;
  pairingCode = 'ABCD1234';
  #sent = 0;
  #sentMessages: WAWebJS.Message[] = [];

  constructor(
    readonly options: WAWebJS.ClientOptions,
    private readonly library: WwebjsLibrary,
  ) {
    super();
    // Like whatsapp-web.js' Client: the auth strategy (LocalAuth, RemoteAuth, NoAuth) is bound at once
    // and runs its hooks in initialize, destroy and logout; so RemoteAuth really restores and uploads.
    options.authStrategy?.setup(this as unknown as WAWebJS.Client);
  }

  /** Emit a client event with the arguments index.d.ts declares for it. */
  fire<K extends WwebjsEventName>(name: K, ...args: WwebjsEventArgs[K]): void {
    this.emit(name, ...args);
  }

  called(method: string): Call[] {
    return this.calls.filter((c) => c.method === method);
  }

  get sentMessages(): readonly WAWebJS.Message[] {
    return this.#sentMessages;
  }

  async initialize(): Promise<void> {
    this.calls.push({ method: 'initialize', args: [] });
    // whatsapp-web.js restores the stored session (RemoteAuth: extract and unzip) before the browser starts.
    await this.options.authStrategy?.beforeBrowserInitialized();
    this.#initialized = true;
    this.#onInitialize.forEach((fn) => fn());
    await this.initializeImpl();
  }

  #initialized = false;
  readonly #onInitialize: (() => void)[] = [];

  /** Resolves once the engine called `initialize()` and the auth strategy restored the session (listeners attached by then). */
  initialized(): Promise<void> {
    if (this.#initialized) return Promise.resolve();
    return new Promise((resolve) => this.#onInitialize.push(resolve));
  }

  async destroy(): Promise<void> {
    this.calls.push({ method: 'destroy', args: [] });
    await this.options.authStrategy?.destroy();
  }

  async logout(): Promise<void> {
    this.calls.push({ method: 'logout', args: [] });
    // RemoteAuth deletes the stored session here, LocalAuth its folder.
    await this.options.authStrategy?.logout();
  }

  /** Like whatsapp-web.js: the sent message also comes as `message_create` (fromMe), before its acks. */
  async sendMessage(chatId: string, content: WAWebJS.MessageContent, options?: WAWebJS.MessageSendOptions): Promise<WAWebJS.Message> {
    this.calls.push({ method: 'sendMessage', args: [chatId, content, options] });
    const known = this.chats.some((c) => c.id._serialized === chatId);
    if (!known) return undefined as unknown as WAWebJS.Message; // what whatsapp-web.js returns for an unknown chat
    this.#sent += 1;
    const me = this.info.wid._serialized;
    const media = typeof content === 'string' ? undefined : (content as WAWebJS.MessageMedia);
    const msg = scriptedMessage(
      {
        id: `SENT${this.#sent}`,
        from: me,
        to: chatId,
        fromMe: true,
        body: media === undefined ? String(content) : (options?.caption ?? ''),
        timestamp: 1_700_000_100 + this.#sent,
        ack: 1 as WAWebJS.MessageAck,
        type: (media === undefined ? 'chat' : 'image') as WAWebJS.MessageTypes,
        ...(media === undefined ? {} : { media: { mimetype: media.mimetype, filename: media.filename ?? null, size: 0, base64: media.data } }),
      },
      this.library,
    );
    this.#sentMessages.push(msg);
    this.messages.set(msg.id._serialized, msg);
    this.fire('message_create', msg);
    return msg;
  }

  async getChats(): Promise<WAWebJS.Chat[]> {
    this.calls.push({ method: 'getChats', args: [] });
    return this.chats;
  }

  async getMessageById(messageId: string): Promise<WAWebJS.Message> {
    this.calls.push({ method: 'getMessageById', args: [messageId] });
    return this.messages.get(messageId) ?? (null as unknown as WAWebJS.Message);
  }

  async getProfilePicUrl(contactId: string): Promise<string> {
    this.calls.push({ method: 'getProfilePicUrl', args: [contactId] });
    return this.profilePics.get(contactId) ?? (undefined as unknown as string);
  }

  async getState(): Promise<WAWebJS.WAState> {
    this.calls.push({ method: 'getState', args: [] });
    return this.stateImpl();
  }

  async getContactLidAndPhone(userIds: string[]): Promise<{ lid: string; pn: string }[]> {
    this.calls.push({ method: 'getContactLidAndPhone', args: [userIds] });
    return userIds.flatMap((lid) => {
      const pn = this.lids.get(lid);
      return pn === undefined ? [] : [{ lid, pn }];
    });
  }

  async requestPairingCode(phoneNumber: string, showNotification?: boolean, intervalMs?: number): Promise<string> {
    this.calls.push({ method: 'requestPairingCode', args: [phoneNumber, showNotification, intervalMs] });
    this.fire('code', this.pairingCode);
    return this.pairingCode;
  }
}

/** whatsapp-web.js' real MessageMedia and auth strategies, with every Client replaced by a ScriptedClient. */
export interface ScriptedLibrary {
  library: WwebjsLibrary;
  clients: ScriptedClient[];
  /** Client number `index` (0 = first launch) once the engine initialized it. */
  client(index: number): Promise<ScriptedClient>;
}

export async function scriptedLibrary(onCreate: (client: ScriptedClient) => void = () => {}): Promise<ScriptedLibrary> {
  const real = await loadWwebjsLibrary();
  const clients: ScriptedClient[] = [];
  const waiting = new Map<number, (c: ScriptedClient) => void>();
  const library: WwebjsLibrary = {
    ...real,
    createClient: (options) => {
      const client = new ScriptedClient(options, library);
      clients.push(client);
      onCreate(client);
      const waiter = waiting.get(clients.length - 1);
      if (waiter) void client.initialized().then(() => waiter(client));
      return client;
    },
  };
  const client = async (index: number): Promise<ScriptedClient> => {
    const existing = clients[index];
    if (existing) {
      await existing.initialized();
      return existing;
    }
    return new Promise((resolve) => waiting.set(index, resolve));
  };
  return { library, clients, client };
}
