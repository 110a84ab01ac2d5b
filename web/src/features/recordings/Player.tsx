/**
 * The player: a waveform (wavesurfer.js) over the browser's own audio element, which fetches the
 * audio with HTTP range requests as the user seeks, so an hour-long call starts at once. Each
 * removed identifier is marked on the waveform and listed; the transcript beside it highlights the
 * word being spoken, and a click on a word seeks there.
 */
import { memo, useCallback, useEffect, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import { useTranslation } from 'react-i18next';
import WaveSurfer from 'wavesurfer.js';
import RegionsPlugin from 'wavesurfer.js/plugins/regions';
import { api } from '../../shared/api/client';
import type { paths } from '../../shared/api/schema';
import { clock, identifierKind, isRedactionLabel, masked, speed } from '../../shared/format';

type Transcript = paths['/api/v1/recordings/{id}/transcript']['get']['responses'][200]['content']['application/json'];
interface Word {
  text: string;
  start: number;
  end: number;
}

const STEP = 5;

export function Player({
  recordingId,
  accessId,
  audioUrl,
  rendition,
  hasTranscript,
  onAccessEnded,
}: {
  recordingId: string;
  accessId: string;
  audioUrl: string;
  rendition: 'redacted' | 'original';
  hasTranscript: boolean;
  onAccessEnded: () => void;
}) {
  const { t } = useTranslation('recordings');
  // changes with the language, so the waveform's labels are drawn again in the new one
  const { t: tc } = useTranslation('common');
  const waveRef = useRef<HTMLDivElement>(null);
  const [ws, setWs] = useState<WaveSurfer | null>(null);
  const regionsRef = useRef<ReturnType<typeof RegionsPlugin.create> | null>(null);
  const [playing, setPlaying] = useState(false);
  const [now, setNow] = useState(0);
  const [duration, setDuration] = useState(0);
  const [rate, setRate] = useState(1);
  const [transcript, setTranscript] = useState<Transcript | null>(null);

  useEffect(() => {
    if (!hasTranscript) return;
    void api
      .GET('/api/v1/recordings/{id}/transcript', { params: { path: { id: recordingId }, query: { access: accessId } } })
      .then(({ data }) => setTranscript(typeof data === 'object' ? data : null)); // JSON unless text/vtt is asked for
  }, [recordingId, accessId, hasTranscript]);

  useEffect(() => {
    function createWave(peaks: number[], seconds: number): WaveSurfer {
      const regions = RegionsPlugin.create();
      const wave = WaveSurfer.create({
        container: waveRef.current!,
        url: audioUrl,
        peaks: [peaks],
        duration: seconds,
        height: 96,
        waveColor: '#4a6fa5',
        progressColor: '#1c3d6e',
        cursorColor: '#111',
        normalize: true,
        dragToSeek: true,
        plugins: [regions],
      });
      let lastTime = 0;
      wave.on('ready', (d) => setDuration(d));
      wave.on('timeupdate', (time) => {
        lastTime = time;
        setNow(time);
      });
      wave.on('play', () => setPlaying(true));
      wave.on('pause', () => setPlaying(false));
      wave.on('finish', () => setPlaying(false));
      wave.on('error', async () => {
        // the session or the stated purpose may have ended: the first asks the user to sign in
        // again (the client does), the second asks for the purpose again
        const { response } = await api.GET('/api/v1/auth/session');
        if (!response.ok) return;
        const probe = await fetch(audioUrl, { headers: { range: 'bytes=0-0' }, credentials: 'same-origin' });
        if (probe.status === 400 || probe.status === 403) return onAccessEnded();
        await wave.load(audioUrl, [peaks], seconds);
        wave.setTime(lastTime);
      });
      regionsRef.current = regions;
      setWs(wave);
      return wave;
    }

    let wave: WaveSurfer | undefined;
    let cancelled = false;
    // the waveform comes from the server, so the browser downloads no audio to draw it: the
    // <audio> element streams the URL and fetches only the ranges it plays and seeks to
    void api.GET('/api/v1/recordings/{id}/waveform', { params: { path: { id: recordingId }, query: { access: accessId } } }).then(({ data }) => {
      if (cancelled) return;
      if (!data) return onAccessEnded();
      wave = createWave(data.peaks, data.durationMs / 1000);
    });
    return () => {
      cancelled = true;
      wave?.destroy();
    };
  }, [recordingId, accessId, audioUrl, onAccessEnded]);

  // kept from one render to the next (the position re-renders many times a second): the regions
  // are drawn again only when the transcript or the waveform changes
  const identifiers = useMemo(() => transcript?.identifiers ?? [], [transcript]);
  useEffect(() => {
    const regions = regionsRef.current;
    if (!ws || !regions || duration === 0) return;
    regions.clearRegions();
    for (const span of identifiers) {
      if (span.start === undefined || span.end === undefined) continue;
      regions.addRegion({ start: span.start, end: span.end, color: 'rgba(200, 30, 30, 0.35)', drag: false, resize: false, content: regionLabel(identifierKind(span.type, tc)) });
    }
  }, [ws, duration, identifiers, tc]);

  const words = useMemo(() => {
    const out: Array<{ speaker?: string; words: Word[] }> = [];
    for (const seg of transcript?.segments ?? []) {
      const ws_ = (seg.words?.length ? seg.words : [{ text: seg.text, start: seg.start, end: seg.end }]) as Word[];
      out.push({ speaker: seg.speaker, words: ws_ });
    }
    return out;
  }, [transcript]);

  const seek = useCallback(
    (seconds: number) => {
      ws?.setTime(Math.min(Math.max(0, seconds), duration || seconds));
    },
    [ws, duration],
  );

  function onWaveKey(e: KeyboardEvent) {
    if (e.key === 'ArrowRight') seek(now + STEP);
    else if (e.key === 'ArrowLeft') seek(now - STEP);
    else if (e.key === 'Home') seek(0);
    else if (e.key === ' ' || e.key === 'Enter') void ws?.playPause();
    else return;
    e.preventDefault();
  }

  return (
    <section className="player" aria-label={t('player.region')}>
      <div
        ref={waveRef}
        className="waveform"
        role="slider"
        tabIndex={0}
        aria-label={t('player.waveform')}
        aria-valuemin={0}
        aria-valuemax={Math.round(duration)}
        aria-valuenow={Math.round(now)}
        aria-valuetext={t('player.position', { at: clock(now), total: clock(duration) })}
        onKeyDown={onWaveKey}
        data-testid="waveform"
      />
      <div className="controls">
        <button type="button" onClick={() => seek(now - STEP)} aria-label={t('player.back')}>
          −5 s
        </button>
        <button type="button" className="primary" onClick={() => void ws?.playPause()} disabled={!duration}>
          {playing ? t('player.pause') : t('player.play')}
        </button>
        <button type="button" onClick={() => seek(now + STEP)} aria-label={t('player.forward')}>
          +5 s
        </button>
        <span className="time" data-testid="position">
          {t('player.position', { at: clock(now), total: clock(duration) })}
        </span>
        <label className="speed">
          {t('player.speed')}{' '}
          <select
            value={rate}
            onChange={(e) => {
              setRate(Number(e.target.value));
              ws?.setPlaybackRate(Number(e.target.value));
            }}
          >
            {[0.75, 1, 1.25, 1.5, 2].map((r) => (
              <option key={r} value={r}>
                {speed(r)}
              </option>
            ))}
          </select>
        </label>
      </div>
      {rendition === 'original' && (
        <p className="warning audible" role="note">
          <strong>⚠ {t('player.audible')}</strong> {identifiers.length > 0 ? t('player.audibleSpans', { count: identifiers.length }) : t('player.audibleUnknown')}
        </p>
      )}
      {identifiers.length > 0 && (
        <details className="spans">
          <summary>{rendition === 'original' ? t('player.spokenSpans', { count: identifiers.length }) : t('player.redactedSpans', { count: identifiers.length })}</summary>
          <ul>
            {identifiers.map((s, i) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: the list is rebuilt only when the transcript changes and is never reordered; its items have no id
              <li key={i}>
                <button type="button" className="link" onClick={() => seek(s.start ?? 0)}>
                  {clock(s.start ?? 0)}–{clock(s.end ?? 0)}
                </button>{' '}
                {t(rendition === 'original' ? 'player.spokenSpan' : 'player.redactedSpan', { type: identifierKind(s.type, tc) })}
              </li>
            ))}
          </ul>
        </details>
      )}
      <section className="transcript" aria-labelledby="transcript-h">
        <h2 id="transcript-h">{t('player.transcript')}</h2>
        {!hasTranscript && <p>{t('player.noTranscript')}</p>}
        {words.map((seg, i) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: the list is rebuilt only when the transcript changes and is never reordered; its items have no id
          <p key={i}>
            {seg.speaker && <span className="speaker">{seg.speaker}: </span>}
            {seg.words.map((w, j) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: the list is rebuilt only when the transcript changes and is never reordered; two words may share a start time
              <TranscriptWord key={j} word={w} current={now >= w.start && now < w.end} onSeek={seek} />
            ))}
          </p>
        ))}
      </section>
    </section>
  );
}

/** a span's label on the waveform: cut short with an ellipsis where the span is narrow, whole in its title */
function regionLabel(text: string): HTMLElement {
  const label = document.createElement('div');
  label.textContent = text;
  label.title = text;
  Object.assign(label.style, {
    padding: '0.2em 0.3em',
    fontSize: '0.8rem',
    lineHeight: '1.2',
    whiteSpace: 'nowrap',
    overflow: 'hidden',
    textOverflow: 'ellipsis',
    maxWidth: '100%',
    boxSizing: 'border-box',
  });
  return label;
}

/** a word of the transcript: only the words that become or stop being current render again as it plays */
const TranscriptWord = memo(function TranscriptWord({ word, current, onSeek }: { word: Word; current: boolean; onSeek: (s: number) => void }) {
  const ref = useRef<HTMLSpanElement>(null);
  useEffect(() => {
    // only the transcript scrolls (`container`, Chromium 140+): the page must not move the waveform under the pointer
    if (current) ref.current?.scrollIntoView({ block: 'nearest', container: 'nearest' } as ScrollIntoViewOptions);
  }, [current]);
  const label = isRedactionLabel(word.text.trim());
  return (
    <>
      {/* biome-ignore lint/a11y/useKeyWithClickEvents: a click on a word is a pointer shortcut; the keyboard seeks with the waveform slider and the redacted-span buttons, and a control per word would make a long transcript unreadable with a screen reader */}
      {/* biome-ignore lint/a11y/noStaticElementInteractions: as above, the word stays text */}
      <span ref={ref} className={`word${current ? ' current' : ''}${label ? ' redacted' : ''}`} aria-current={current ? 'time' : undefined} onClick={() => onSeek(word.start)}>
        {label ? masked(word.text.trim()) : word.text.trim()}
      </span>{' '}
    </>
  );
});
