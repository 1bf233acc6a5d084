%% @doc nf_tables over netlink: tables, chains and rules of any network
%% namespace, changed in one transaction and dumped as maps.
%% Guide: docs/nftables.md in the source tree.
%%
%% ```
%% In = #{in => {netns, <<"blue">>}},
%% ok = linx_nft:apply(
%%        [{add, table, #{family => inet, name => <<"f">>}},
%%         {add, chain, #{family => inet, table => <<"f">>, name => <<"in">>,
%%                        type => filter, hook => input, priority => 0,
%%                        policy => accept}},
%%         {add, rule, #{family => inet, table => <<"f">>, chain => <<"in">>,
%%                       comment => <<"no pings">>,
%%                       expressions =>
%%                           [{meta, #{key => l4proto, dreg => 1}},
%%                            {cmp, #{sreg => 1, op => eq, data => #{value => <<1>>}}},
%%                            {counter, #{}},
%%                            {immediate, #{dreg => 0,
%%                                          data => #{verdict => #{code => drop}}}}]}}],
%%        In),
%% {ok, #{tables := _, chains := _, rules := _}} = linx_nft:ruleset(In).
%% '''
%%
%% Every call takes the transport options of {@link linx_netlink:call/3}
%% (`in', `timeout', `via'), as a map or a proplist, and no other: any
%% other key is `{error, {bad_option, {Key, Value}}}'.
%%
%% == Objects ==
%% A table is `#{family, name, flags, comment, handle, use, owner}',
%% a chain `#{family, table, name, handle, type, hook, priority, policy,
%% dev, devs, flags, comment, use}' (`hook' by nft's name in its family:
%% `prerouting', `input', `forward', `output', `postrouting', `ingress',
%% `egress'), a rule `#{family, table, chain, handle, position, comment,
%% expressions}', a set `#{family, table, name, key, data, flags,
%% timeout, elements}' (`key' and `data' by type: `ipv4_addr',
%% `inet_service', ..., a list of them, `verdict'). Families: `ip',
%% `ip6', `inet', `arp', `bridge', `netdev'. Expressions are `{Kind, Map}', one table per kind (see
%% docs/nftables.md); one linx has no table for, or whose data does not
%% decode, comes back as `{Name, Data}' (binaries) and can be sent so.
%% A rule's `expressions' may also be the short form's statements
%% (`[{match, tcp, dport, 22}, accept]') or nft's text of them
%% (`<<"tcp dport 22 accept">>'; docs/nftables.md, "Rules as nft's text").
%%
%% == Transactions ==
%% {@link apply/2} sends its ops in one nf_tables batch
%% (`NFNL_MSG_BATCH_BEGIN' ... `NFNL_MSG_BATCH_END'): the kernel makes
%% all of them or none. An op the kernel refuses gives
%% `{error, #{stage := netlink, errno, code, message, index := N, op := Op,
%% in}}' (`N' its place in the list, from 1; 0 and `op => batch' when the
%% batch as a whole failed). An op that does not encode is refused before
%% anything is sent: `{error, {bad_op, #{index, op, object, field, value}}}'.
%% {@link format_error/1} renders any error as one line.
-module(linx_nft).

-include("linx_owned.hrl").

-compile({no_auto_import, [apply/2]}).

-export([apply/1, apply/2, replace/2, replace/3, flush_ruleset/0, flush_ruleset/1]).
-export([ruleset/0, ruleset/1, tables/0, tables/1, chains/0, chains/1, rules/0, rules/1,
         sets/0, sets/1]).
-export([table_add/1, table_add/2, table_del/1, table_del/2, chain_add/1, chain_add/2,
         chain_del/1, chain_del/2, rule_add/1, rule_add/2, rule_del/1, rule_del/2]).
-export([subscribe/1, subscribe/2, unsubscribe/1]).
-export([format_error/1]).

-export_type([op/0, object/0, ruleset/0, kind/0, event/0]).

-type op() :: linx_nft_msg:op().
%% `{add | create, table | chain, Map}', `{add | insert | replace, rule,
%% Map}', `{delete, table | chain | rule, Map}', `{flush, table, #{family,
%% name}}', `{flush, chain, #{family, table, name}}', `flush_ruleset' or
%% `{flush, ruleset, #{family => F}}'; for sets `{add | create | delete |
%% flush, set, Map}' and `{add | delete, element, #{family, table, set,
%% key, data, elements}}'.
-type object() :: linx_nft_msg:object().
-type ruleset() :: #{tables := [object()], chains := [object()], sets := [object()],
                     rules := [object()]}.
-type kind() :: table | chain | rule | set | element | gen.
-type event() :: {kind(), new | del, object()} | {other, integer(), binary()}
               | {resync, [{table | chain | set | rule, new, object()}]} | {error, term()}.
%% What {@link subscribe/2} sends, as `{linx_nft, Ref, Event}'.

%%====================================================================
%% Transactions
%%====================================================================

%% @equiv apply(Ops, #{})
-spec apply([op()]) -> ok | {error, term()}.
apply(Ops) ->
    apply(Ops, #{}).

%% @doc Applies `Ops' in order, as one transaction (see the module
%% documentation). `add' makes an object or leaves the one there,
%% `create' fails with `eexist' when it is there; a rule `add' goes at
%% the end of its chain, or after the rule whose handle is `position',
%% `insert' at the start, or before `position'; `replace' takes the
%% rule's `handle'. An empty list is `ok', with nothing sent.
-spec apply([op()], linx_netlink:opts()) -> ok | {error, term()}.
apply(Ops, Opts) ->
    ?OWNED(linx_nft_call:apply(Ops, Opts, apply)).

%% @equiv replace(Table, Ops, #{})
-spec replace(map(), [op()]) -> ok | {error, term()}.
replace(Table, Ops) ->
    replace(Table, Ops, #{}).

%% @doc Makes the table `Table' (`family', `name', and `flags' or
%% `comment') again, empty, and applies `Ops' after it: one transaction,
%% so the table is never seen half filled.
-spec replace(map(), [op()], linx_netlink:opts()) -> ok | {error, term()}.
replace(Table, Ops, Opts) ->
    ?OWNED(linx_nft_call:replace(Table, Ops, Opts, replace)).

%% @equiv flush_ruleset(#{})
-spec flush_ruleset() -> ok | {error, term()}.
flush_ruleset() ->
    flush_ruleset(#{}).

%% @doc Deletes every table of every family, with all they hold.
-spec flush_ruleset(linx_netlink:opts()) -> ok | {error, term()}.
flush_ruleset(Opts) ->
    ?OWNED(linx_nft_call:apply([flush_ruleset], Opts, flush_ruleset)).

%%====================================================================
%% Dumps
%%====================================================================

%% @equiv ruleset(#{})
-spec ruleset() -> {ok, ruleset()} | {error, term()}.
ruleset() ->
    ruleset(#{}).

%% @doc Every table, chain, set (with its elements) and rule of every
%% family, decoded.
-spec ruleset(linx_netlink:opts()) -> {ok, ruleset()} | {error, term()}.
ruleset(Opts) ->
    ?OWNED(case linx_nft_call:ruleset(Opts, ruleset) of
               {ok, #{tables := _, chains := _, sets := _, rules := _} = Ruleset} -> {ok, Ruleset};
               {error, _} = Error -> Error
           end).

%% @equiv sets(#{})
-spec sets() -> {ok, [object()]} | {error, term()}.
sets() ->
    sets(#{}).

%% @doc Every set and map of every table, with its `elements' (see
%% docs/nftables.md, "Sets and maps").
-spec sets(linx_netlink:opts()) -> {ok, [object()]} | {error, term()}.
sets(Opts) ->
    ?OWNED(linx_nft_call:sets(Opts, sets)).

%% @equiv tables(#{})
-spec tables() -> {ok, [object()]} | {error, term()}.
tables() ->
    tables(#{}).

%% @doc Every table of every family.
-spec tables(linx_netlink:opts()) -> {ok, [object()]} | {error, term()}.
tables(Opts) ->
    ?OWNED(linx_nft_call:dump(table, Opts, tables)).

%% @equiv chains(#{})
-spec chains() -> {ok, [object()]} | {error, term()}.
chains() ->
    chains(#{}).

%% @doc Every chain of every table.
-spec chains(linx_netlink:opts()) -> {ok, [object()]} | {error, term()}.
chains(Opts) ->
    ?OWNED(linx_nft_call:dump(chain, Opts, chains)).

%% @equiv rules(#{})
-spec rules() -> {ok, [object()]} | {error, term()}.
rules() ->
    rules(#{}).

%% @doc Every rule of every chain, with its expressions.
-spec rules(linx_netlink:opts()) -> {ok, [object()]} | {error, term()}.
rules(Opts) ->
    ?OWNED(linx_nft_call:dump(rule, Opts, rules)).

%%====================================================================
%% One change
%%====================================================================

%% @equiv table_add(Table, #{})
-spec table_add(map()) -> ok | {error, term()}.
table_add(Table) ->
    table_add(Table, #{}).

%% @doc `apply([{add, table, Table}], Opts)'.
-spec table_add(map(), linx_netlink:opts()) -> ok | {error, term()}.
table_add(Table, Opts) ->
    ?OWNED(linx_nft_call:apply([{add, table, Table}], Opts, table_add)).

%% @equiv table_del(Table, #{})
-spec table_del(map()) -> ok | {error, term()}.
table_del(Table) ->
    table_del(Table, #{}).

%% @doc `apply([{delete, table, Table}], Opts)': the table (`family' and
%% `name', or `handle') with all it holds.
-spec table_del(map(), linx_netlink:opts()) -> ok | {error, term()}.
table_del(Table, Opts) ->
    ?OWNED(linx_nft_call:apply([{delete, table, Table}], Opts, table_del)).

%% @equiv chain_add(Chain, #{})
-spec chain_add(map()) -> ok | {error, term()}.
chain_add(Chain) ->
    chain_add(Chain, #{}).

%% @doc `apply([{add, chain, Chain}], Opts)'.
-spec chain_add(map(), linx_netlink:opts()) -> ok | {error, term()}.
chain_add(Chain, Opts) ->
    ?OWNED(linx_nft_call:apply([{add, chain, Chain}], Opts, chain_add)).

%% @equiv chain_del(Chain, #{})
-spec chain_del(map()) -> ok | {error, term()}.
chain_del(Chain) ->
    chain_del(Chain, #{}).

%% @doc `apply([{delete, chain, Chain}], Opts)'.
-spec chain_del(map(), linx_netlink:opts()) -> ok | {error, term()}.
chain_del(Chain, Opts) ->
    ?OWNED(linx_nft_call:apply([{delete, chain, Chain}], Opts, chain_del)).

%% @equiv rule_add(Rule, #{})
-spec rule_add(map()) -> ok | {error, term()}.
rule_add(Rule) ->
    rule_add(Rule, #{}).

%% @doc `apply([{add, rule, Rule}], Opts)'.
-spec rule_add(map(), linx_netlink:opts()) -> ok | {error, term()}.
rule_add(Rule, Opts) ->
    ?OWNED(linx_nft_call:apply([{add, rule, Rule}], Opts, rule_add)).

%% @equiv rule_del(Rule, #{})
-spec rule_del(map()) -> ok | {error, term()}.
rule_del(Rule) ->
    rule_del(Rule, #{}).

%% @doc `apply([{delete, rule, Rule}], Opts)': the rule of `family',
%% `table', `chain' and `handle'.
-spec rule_del(map(), linx_netlink:opts()) -> ok | {error, term()}.
rule_del(Rule, Opts) ->
    ?OWNED(linx_nft_call:apply([{delete, rule, Rule}], Opts, rule_del)).

%%====================================================================
%% Events
%%====================================================================

%% @equiv subscribe(Kinds, #{})
-spec subscribe(all | [kind()]) -> {ok, reference()} | {error, term()}.
subscribe(Kinds) ->
    subscribe(Kinds, #{}).

%% @doc Subscribes the caller to the nf_tables changes of the namespace
%% (the `NFNLGRP_NFTABLES' group), of the kinds `Kinds' (`all', or a list
%% of `table', `chain', `rule', `set', `element', `gen'). Each arrives as
%% `{linx_nft, Ref, Event}': `{Kind, new | del, Map}', the maps of the
%% dumps (an `element' event: `#{family, table, set, elements}', the
%% elements decoded by the set's types), `{gen, new, #{id, proc_pid,
%% proc_name}}' after each transaction, `{resync, Objects}' (the tables,
%% chains, sets with their elements, and rules now, as `{Kind, new,
%% Map}': first with `list_existing => true', and after the kernel
%% dropped events), or `{error, Reason}' (`enobufs' with `resync =>
%% false'). Options: the transport options, `rcvbuf', `list_existing',
%% `resync'. It ends on {@link unsubscribe/1} or when the caller exits.
-spec subscribe(all | [kind()], linx_netlink:opts()) -> {ok, reference()} | {error, term()}.
subscribe(Kinds, Opts) ->
    ?OWNED(linx_nft_events:subscribe(Kinds, Opts)).

%% @doc Ends a subscription of the calling process; events of `Ref' still
%% in its mailbox are removed. `ok' also when it has ended already.
-spec unsubscribe(reference()) -> ok.
unsubscribe(Ref) ->
    linx_nft_events:stop(Ref).

%%====================================================================
%% Errors
%%====================================================================

%% @doc Renders an error of this module (or any linx error) as one line.
-spec format_error(term()) -> unicode:unicode_binary().
format_error(Reason) ->
    linx_error:format_owned(Reason, fun format_reason/1).

-spec format_reason(term()) -> unicode:unicode_binary().
format_reason(#{stage := netlink, index := Index, op := Op, errno := _, code := _} = Info) ->
    What = case Op of
               batch -> "nf_tables batch";
               _ -> io_lib:format("nf_tables op ~b (~0tp)", [Index, Op])
           end,
    linx_netlink_error:failed_line(What, Info, []);
format_reason({bad_op, #{index := Index, op := Op, object := Object, field := Field,
                         value := Value}}) ->
    linx_error:line(io_lib:format("invalid nf_tables op ~b (~0tp): ~ts ~0tp of the ~ts is ~0tp",
                                  [Index, Op, "field", Field, Object, Value]));
format_reason({bad_kinds, Kinds}) ->
    linx_error:invalid("nf_tables event kinds", Kinds,
                       "all or a list of table, chain, rule, set, element, gen");
format_reason({bad_ops, Ops}) ->
    linx_error:invalid("nf_tables ops", Ops, "a list of ops");
format_reason(Reason) ->
    linx_nl:format_error(Reason).
