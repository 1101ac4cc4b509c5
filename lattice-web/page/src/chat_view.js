// A chat store: its channels, each channel's history (older pages on request), posting, and
// new messages as they arrive from any node.
import { useEffect, useState } from 'preact/hooks';
import { api, segment } from './api.js';
import { hlcText, modesText, shortId } from './format.js';
import { html } from './html.js';
import { useLoad, useStoreEvents } from './live.js';
import { Badge, Card, Empty, ErrorNote } from './ui.js';

const kHistoryPage = 50;
const kIncomingKept = 500;  // live messages remembered for the channel shown

function channelPath(store, channel) {
  return `stores/${segment(store)}/channels/${segment(channel)}`;
}

function topicText(answer) {
  if (!answer) return '';
  const topic = answer.topic;
  if (topic && typeof topic === 'object') return topic.set === false ? '' : topic.text || '';
  return topic || '';
}

function Message({ message }) {
  const who = message.sender || shortId(message.author);
  let body = message.text;
  if (message.kind === 'react') body = `reacted ${message.text}`;
  if (message.kind === 'topic') body = `set the topic: ${message.text}`;
  if (message.kind === 'modes') body = `set the channel's modes: ${modesText(message.modes)}`;
  return html`
    <li class=${'message message-' + message.kind} data-testid="chat-message" title=${hlcText(message.hlc)}>
      <strong>${who}</strong>
      ${message.kind === 'reply' ? html` <span class="muted">↪ ${shortId(message.ref, 8)}</span>` : null}
      ${message.action ? html` <em>${body}</em>` : html` <span>${body}</span>`}
    </li>`;
}

function Channel({ store, channel, incoming }) {
  const [messages, setMessages] = useState([]);
  const [before, setBefore] = useState(null);
  const [text, setText] = useState('');
  const [error, setError] = useState(null);
  const topic = useLoad(() => api('GET', channelPath(store, channel) + '/topic'), [store, channel]);

  useEffect(() => {
    let current = true;
    setMessages([]);
    api('GET', channelPath(store, channel) + '/messages', { query: { limit: kHistoryPage } }).then(
      (answer) => {
        if (!current) return;
        setMessages(answer.messages || []);
        setBefore(answer.next_before || null);
      },
      (failure) => current && setError(failure));
    return () => { current = false; };
  }, [store, channel]);

  // Messages that arrived live, handed down by ChatView's one event stream.
  useEffect(() => {
    const mine = incoming.filter((m) => m.channel === channel);
    if (mine.length === 0) return;
    setMessages((old) => {
      const seen = new Set(old.map((m) => m.hash));
      const fresh = mine.filter((m) => !seen.has(m.hash));
      return fresh.length ? [...old, ...fresh] : old;
    });
    if (mine.some((m) => m.kind === 'topic')) topic.reload();
  }, [incoming]);

  const older = async () => {
    try {
      const answer = await api('GET', channelPath(store, channel) + '/messages', { query: { limit: kHistoryPage, before } });
      setMessages((old) => [...(answer.messages || []), ...old]);
      setBefore(answer.next_before || null);
    } catch (failure) {
      setError(failure);
    }
  };
  const post = async (event) => {
    event.preventDefault();
    try {
      const message = await api('POST', channelPath(store, channel) + '/messages', { body: { text } });
      setText('');
      // Shown at once; the same message coming back on the event stream is recognised by hash.
      if (message && message.hash) {
        setMessages((old) => (old.some((m) => m.hash === message.hash) ? old : [...old, message]));
      }
    } catch (failure) {
      setError(failure);
    }
  };

  return html`
    <div class="channel" data-testid="chat-channel">
      <p class="topic" data-testid="chat-topic">${topicText(topic.data) || html`<span class="muted">No topic</span>`}</p>
      ${before ? html`<button type="button" class="btn" data-testid="chat-older" onClick=${older}>Older messages</button>` : null}
      ${messages.length === 0 ? html`<${Empty}>No messages in ${channel} yet.</${Empty}>`
        : html`<ol class="messages">${messages.map((m) => html`<${Message} key=${m.hash} message=${m} />`)}</ol>`}
      <form class="inline-form" onSubmit=${post} data-testid="chat-post-form">
        <input class="wide" placeholder=${'Message ' + channel} value=${text} required
          data-testid="chat-post-text" aria-label="Message"
          onInput=${(e) => setText(e.currentTarget.value)} />
        <button type="submit" class="btn btn-primary" data-testid="chat-post" disabled=${!text}>Post</button>
      </form>
      <${ErrorNote} error=${error} />
    </div>`;
}

export function ChatView({ store }) {
  const { data, error, reload } = useLoad(() => api('GET', `stores/${segment(store)}/channels`), [store]);
  const [channel, setChannel] = useState(null);
  const [newChannel, setNewChannel] = useState('');
  const channels = (data && data.channels) || [];
  const [incoming, setIncoming] = useState([]);
  const live = useStoreEvents(store, {}, {
    message: (message) => {
      if (!channels.some((c) => c.name === message.channel)) reload();
      setIncoming((old) => [...old, message].slice(-kIncomingKept));
    },
  });
  const selected = channel || (channels[0] && channels[0].name) || null;
  return html`
    <${Card} title="Chat" testid="chat" actions=${html`<${Badge} testid="live-state" text=${live} />`}>
      <${ErrorNote} error=${error} />
      <div class="chat">
        <nav class="channels">
          ${channels.length === 0 ? html`<p class="muted small">No channels yet.</p>` : null}
          <ul>${channels.map((c) => html`
            <li key=${c.name}><button type="button" data-testid="chat-channel-open"
              class=${c.name === selected ? 'link selected' : 'link'}
              onClick=${() => setChannel(c.name)}>${c.name} <span class="muted small">${c.messages}</span></button></li>`)}
          </ul>
          <form class="stack-form" onSubmit=${(e) => { e.preventDefault(); if (newChannel) { setChannel(newChannel); setNewChannel(''); } }}>
            <input placeholder="#channel" value=${newChannel} aria-label="Open a channel"
              onInput=${(e) => setNewChannel(e.currentTarget.value)} />
          </form>
        </nav>
        ${selected ? html`<${Channel} key=${selected} store=${store} channel=${selected} incoming=${incoming} />` : html`<${Empty}>Open a channel to read and post.</${Empty}>`}
      </div>
    </${Card}>`;
}
