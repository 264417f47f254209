// The stand-in's single page (served at /). Plain HTML + JS, no build step: it polls
// /_ui/state, renders Block Kit, and posts clicks, modal submissions and slash commands back.
export const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>medic · local Slack</title>
<style>
body{margin:0;font:14px/1.45 system-ui,sans-serif;color:#1d1c1d;display:grid;grid-template-columns:220px 1fr;grid-template-rows:48px 1fr 56px;height:100vh}
header{grid-column:1/3;background:#3f0e40;color:#fff;display:flex;align-items:center;gap:16px;padding:0 16px}
header b{font-size:16px} header select{font-size:14px}
nav{background:#4a154b;color:#ddd;padding:12px} nav div{padding:4px 8px;border-radius:4px;cursor:pointer} nav div.on{background:#1164a3;color:#fff}
main{overflow:auto;padding:12px 20px} footer{grid-column:2;padding:8px 20px;border-top:1px solid #ddd}
footer input{width:100%;padding:8px;font-size:14px;box-sizing:border-box}
.msg{border:1px solid #e8e8e8;border-radius:8px;padding:10px 12px;margin:10px 0;background:#fff}
.who{font-weight:700}.ts{color:#888;font-size:12px;margin-left:6px}
.thread{margin:8px 0 0 24px;border-left:3px solid #ddd;padding-left:12px}
.reply{padding:6px 0;border-top:1px dashed #eee}
.fields{display:grid;grid-template-columns:1fr 1fr;gap:6px 16px;margin:6px 0}
.ctx{color:#616061;font-size:12px;margin-top:6px}.hdr{font-size:18px;font-weight:800;margin:2px 0 6px}
button.btn{border:1px solid #bbb;background:#fff;border-radius:4px;padding:4px 12px;margin:6px 6px 0 0;cursor:pointer;font-weight:600}
button.primary{background:#007a5a;color:#fff;border-color:#007a5a}button.danger{background:#e01e5a;color:#fff;border-color:#e01e5a}
pre.code{background:#f8f8f8;border:1px solid #e1e1e1;border-radius:3px;padding:4px 6px;margin:2px 0;font-size:12px;white-space:pre-wrap}
code{background:#f4f4f4;border:1px solid #e1e1e1;border-radius:3px;padding:0 3px;font-size:12px}
.eph{background:#f8f8fb;border-left:4px solid #1264a3}.eph small{color:#888;display:block}
.mention{background:#e8f5fa;color:#1264a3;border-radius:3px;padding:0 2px}
#modal{position:fixed;inset:0;background:rgba(0,0,0,.45);display:none;align-items:center;justify-content:center}
#modal .box{background:#fff;border-radius:8px;width:520px;max-width:90vw;padding:16px 20px}
#modal textarea{width:100%;min-height:80px;box-sizing:border-box}#modal .err{color:#e01e5a;font-size:13px}
#toast{position:fixed;right:16px;bottom:70px;background:#333;color:#fff;padding:8px 12px;border-radius:6px;display:none}
</style></head><body>
<header><b>medic-dev</b><span id="chan"></span><span style="margin-left:auto">acting as</span><select id="user"></select></header>
<nav id="nav"></nav><main id="main"><p>loading…</p></main>
<footer><input id="cmd" placeholder="/medic status   (slash commands go to medic, signed, as the chosen user)"></footer>
<div id="modal"><div class="box" id="modalBox"></div></div><div id="toast"></div>
<script>
const q=new URLSearchParams(location.search);let user=q.get('user')||'';let channel=q.get('channel')||'';let last='';let viewKey='';let state=null;
const EMOJI={':white_check_mark:':'✅',':no_entry:':'⛔',':raised_hand:':'✋',':hammer_and_wrench:':'🛠️',':mag:':'🔍',':rotating_light:':'🚨',':bell:':'🔔',':lock:':'🔒',':vertical_traffic_light:':'🚦',':checkered_flag:':'🏁',':control_knobs:':'🎛️',':large_yellow_circle:':'🟡',':double_vertical_bar:':'⏸️',':red_circle:':'🔴',':large_orange_circle:':'🟠',':large_blue_circle:':'🔵',':white_circle:':'⚪',':hourglass:':'⌛',':warning:':'⚠️',':information_source:':'ℹ️',':octagonal_sign:':'🛑',':large_green_circle:':'🟢',':grey_question:':'❔',':arrow_forward:':'▶️',':hourglass_flowing_sand:':'⏳',':raising_hand:':'🙋',':x:':'❌',':heavy_minus_sign:':'➖',':mag_right:':'🔎',':boom:':'💥',':repeat:':'🔁',':dart:':'🎯',':paperclip:':'📎',':scissors:':'✂️'};
const esc=s=>String(s).replace(/&/g,'&amp;').replace(/</g,'&lt;').replace(/>/g,'&gt;').replace(/"/g,'&quot;');
const name=id=>{const u=(state?.users||[]).find(u=>u.id===id);return u?u.name:id};
function mrkdwn(t){ // t is Slack-escaped text: raw < only opens a link, mention or date token
  return String(t).split(/(<[^>]*>)/).map(part=>{
    if(part.startsWith('<')&&part.endsWith('>')){const inner=part.slice(1,-1);
      if(inner.startsWith('@'))return '<span class="mention">@'+esc(name(inner.slice(1)))+'</span>';
      if(inner.startsWith('!subteam^')){const id=inner.slice(9).split('|')[0];const g=(state?.usergroups||[]).find(g=>g.id===id);return '<span class="mention">@'+esc(g?g.handle:id)+'</span>'}
      if(inner.startsWith('!date^')){const p=inner.split('|');return esc(new Date(Number(inner.split('^')[1])*1000).toLocaleString())}
      const [url,label]=inner.split('|');return '<a href="'+esc(url)+'" target="_blank">'+(label??esc(url))+'</a>'}
    return part.replace(/"/g,'&quot;').replace(/\`\`\`([\\s\\S]*?)\`\`\`/g,(m,c)=>'<pre class="code">'+c.replace(/\\n/g,'\\u0001')+'</pre>').replace(/\`([^\`]+)\`/g,'<code>$1</code>').replace(/\\*([^*\\n]+)\\*/g,'<b>$1</b>').replace(/(^|\\s)_([^_\\n]+)_/g,'$1<i>$2</i>').replace(/:[a-z_]+:/g,m=>EMOJI[m]||m).replace(/\\n/g,'<br>').replace(/\\u0001/g,'\\n')
  }).join('')}
const text=t=>t?(t.type==='mrkdwn'?mrkdwn(t.text):esc(t.text).replace(/\\n/g,'<br>')):'';
function blocks(m){if(!m.blocks||!m.blocks.length)return '<div>'+mrkdwn(esc(m.text))+'</div>';
  return m.blocks.map(b=>{switch(b.type){
    case 'header':return '<div class="hdr">'+text(b.text)+'</div>';
    case 'section':return '<div>'+text(b.text)+'</div>'+(b.fields?'<div class="fields">'+b.fields.map(f=>'<div>'+text(f)+'</div>').join('')+'</div>':'');
    case 'context':return '<div class="ctx">'+b.elements.map(e=>text(e)).join(' ')+'</div>';
    case 'divider':return '<hr>';
    case 'actions':return '<div>'+b.elements.filter(e=>e.type==='button').map(e=>'<button class="btn '+(e.style||'')+'" data-channel="'+esc(m.channel)+'" data-ts="'+esc(m.ts)+'" data-action="'+esc(e.action_id)+'">'+esc(e.text.text)+'</button>').join('')+'</div>';
    default:return '<div class="ctx">['+esc(b.type)+']</div>'}}).join('')}
const stamp=ts=>new Date(Number(ts)*1000).toLocaleTimeString();
function msg(m,cls){return '<div class="'+cls+'"><span class="who">'+(m.user==='U0MEDICBOT'?'medic':esc(name(m.user)))+'</span><span class="ts">'+stamp(m.ts)+(m.updates?' (edited)':'')+'</span>'+blocks(m)+(m.files||[]).map(f=>'<div class="ctx">📎 '+esc(f.title)+' ('+esc(f.name)+', '+f.size+' bytes)</div>').join('')+'</div>'}
function render(){const s=state;const us=document.getElementById('user');
  if(!us.options.length){for(const u of s.users){const o=document.createElement('option');o.value=u.id;o.textContent=(u.real_name||u.name)+' ('+u.id+')';us.appendChild(o)}if(!user&&s.users[0])user=s.users[0].id;us.value=user}
  if(!channel&&s.channels[0])channel=s.channels[0].id;
  document.getElementById('nav').innerHTML=s.channels.map(c=>'<div class="'+(c.id===channel?'on':'')+'" data-ch="'+esc(c.id)+'"># '+esc(c.name)+'</div>').join('');
  const c=s.channels.find(c=>c.id===channel);document.getElementById('chan').textContent=c?'#'+c.name:'';
  const eph=s.ephemerals.filter(e=>e.channel===channel);
  document.getElementById('main').innerHTML=(c&&c.messages.length?c.messages.map(m=>'<div class="msg" data-root="'+esc(m.ts)+'">'+msg(m,'root')+
    (m.replies.length||eph.some(e=>e.thread_ts===m.ts)?'<div class="thread">'+m.replies.map(r=>msg(r,'reply')).join('')+eph.filter(e=>e.thread_ts===m.ts).map(e=>'<div class="reply eph"><small>Only visible to you</small>'+blocks(e)+'</div>').join('')+'</div>':'')+'</div>').join(''):'<p>No messages yet. Break the demo service (npx medic drill demo-outage) and watch.</p>')+
    eph.filter(e=>!e.thread_ts||!c.messages.some(m=>m.ts===e.thread_ts)).map(e=>'<div class="msg eph"><small>Only visible to you</small>'+blocks(e)+'</div>').join('');
  const v=s.view;const key=v?v.id+':'+v.view.hash:'';if(key!==viewKey){viewKey=key;showModal(v)}}
function showModal(v,errors){const el=document.getElementById('modal');if(!v){el.style.display='none';return}
  const vw=v.view;document.getElementById('modalBox').innerHTML='<h3>'+esc(vw.title.text)+'</h3>'+vw.blocks.map(b=>b.type==='input'?'<label><b>'+esc(b.label.text)+'</b><br><textarea data-block="'+esc(b.block_id)+'"></textarea></label><div class="err" data-err="'+esc(b.block_id)+'">'+esc((errors||{})[b.block_id]||'')+'</div>':blocks({blocks:[b]})).join('')+
    '<div style="text-align:right;margin-top:10px"><button class="btn" id="mclose">'+esc(vw.close?vw.close.text:'Cancel')+'</button><button class="btn primary" id="msubmit">'+esc(vw.submit?vw.submit.text:'Submit')+'</button></div>';
  el.style.display='flex';el.dataset.view=v.id}
async function post(path,body){const r=await fetch(path,{method:'POST',headers:{'content-type':'application/json'},body:JSON.stringify(body)});return r.json()}
function toast(t){const el=document.getElementById('toast');el.textContent=t;el.style.display='block';setTimeout(()=>el.style.display='none',3000)}
document.addEventListener('click',async e=>{const t=e.target;
  if(t.dataset.action){t.disabled=true;const r=await post('/_ui/click',{user,channel:t.dataset.channel,ts:t.dataset.ts,actionId:t.dataset.action});if(r.status!==200)toast('Slack app answered '+r.status);poll()}
  if(t.dataset.ch){channel=t.dataset.ch;last='';poll()}
  if(t.id==='mclose'){await post('/_ui/close',{viewId:document.getElementById('modal').dataset.view});viewKey='';poll()}
  if(t.id==='msubmit'){const values={};document.querySelectorAll('#modalBox textarea').forEach(x=>values[x.dataset.block]=x.value);
    const r=await post('/_ui/submit',{user,viewId:document.getElementById('modal').dataset.view,values});
    if(r.body&&r.body.response_action==='errors'){for(const [k,v] of Object.entries(r.body.errors)){const el=document.querySelector('[data-err="'+k+'"]');if(el)el.textContent=v}}else{viewKey='';poll()}}});
document.getElementById('user').addEventListener('change',e=>{user=e.target.value;last='';viewKey='';poll()});
document.getElementById('cmd').addEventListener('keydown',async e=>{if(e.key!=='Enter')return;const text=e.target.value.trim();if(!text)return;e.target.value='';const r=await post('/_ui/command',{user,channel,text});if(r.status!==200)toast('Slack app answered '+r.status);poll()});
async function poll(){try{const r=await fetch('/_ui/state?user='+encodeURIComponent(user));const s=await r.json();const j=JSON.stringify(s)+channel;if(j!==last){last=j;state=s;render()}}catch(e){}}
poll();setInterval(poll,700);
</script></body></html>`;
