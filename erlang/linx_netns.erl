%% @doc Network namespaces made, removed and handed out by linx.
%% Guide: docs/namespaces.md in the source tree.
%%
%% Named namespaces are what `ip netns' makes: {@link add/2} leaves the
%% same thing on disk as `ip netns add' (a file in `/run/netns' with the
%% namespace bind-mounted on it, `/run/netns' a shared mount point), so
%% `ip netns exec', `{netns, Name}' targets and every other tool see it,
%% and {@link del/2} removes one that either side made.
%%
%% ```
%% ok = linx_netns:add(<<"blue">>, #{lo => up}, #{}),
%% {ok, [<<"blue">>]} = linx_netns:list(),
%% {ok, <<"1">>} = linx_sysctl:write(<<"net.ipv4.ip_forward">>, 1,
%%                                   #{in => {netns, <<"blue">>}}),
%% ok = linx_netns:del(<<"blue">>).
%% '''
%%
%% == Namespaces with no name ==
%% {@link new/1} makes a namespace that has no name and no file: the port
%% program holds it open for the calling process, its owner. The handle
%% works as a target everywhere (`in => Handle' for sysctls, sockets and
%% netlink). The namespace is gone when the owner calls {@link release/1},
%% when the owner exits, and when the port program stops (it holds the
%% namespace); in that last case the owner gets the message
%% `{linx_netns_released, Handle, port_exited}'. Nothing is left behind
%% in `/run/netns' or in the mount table.
%% ```
%% {ok, H} = linx_netns:new(#{lo => up}, #{}),
%% {ok, S} = linx_netlink:open(route, #{in => H}),
%% ok = linx_netns:release(H).
%% '''
%% A handle belongs to the local port program: `via' is refused for
%% {@link new/1}, and a handle sent to a C-node names nothing there.
%%
%% == Names ==
%% A name is what `ip netns' accepts: 1 to 255 bytes, not `.' or `..', no
%% `/' and no NUL (a binary or a string). Anything else is
%% `{error, {bad_name, Name}}', before anything is sent.
%%
%% == Options ==
%% `timeout' (default 5000 ms) and `via', as a map or a proplist. Any
%% other key is `{error, {bad_option, {Key, Value}}}': `in' too (these
%% calls act where the port program runs), and `lo' (part of the spec).
%%
%% == Errors ==
%% A failure in the port program is a map such as
%% `#{op => netns_add, name => <<"blue">>, stage => create, errno => eexist,
%% code => 17}', rendered by {@link format_error/1} (and
%% {@link linx:format_error/1}) as one line:
%% `netns add "blue" failed: create eexist (errno 17)'. The stages:
%% `mount' (making `/run/netns' or binding the namespace), `create' (the
%% file: `eexist' when the name is taken), `unshare' (making the
%% namespace), `loopback' (bringing `lo' up), `umount' and `unlink'
%% (`enoent' when there is no such name), `open_ns' (`esrch' for a process
%% that is gone; `enoent' for a handle already released). Other errors
%% are those every linx call shares (`timeout', `not_running', ...).
-module(linx_netns).
-behaviour(gen_server).

-include("linx_owned.hrl").

-export([add/1, add/2, add/3, del/1, del/2, list/0, list/1, exists/1, exists/2,
         identify/1, identify/2]).
-export([new/0, new/1, new/2, release/1, owned/0]).
-export([format_error/1]).

-export([start_link/0]).
-export([init/1, handle_call/3, handle_cast/2, handle_info/2]).

-export_type([name/0, handle/0, spec/0, opts/0, error_reason/0]).

-type name() :: binary() | string().
%% A netns name (see the module documentation).

-type handle() :: linx_opts:handle().
%% A namespace with no name, held for its owner; use it as `in => Handle'.

-type spec() :: #{lo => up | down}.
%% A new namespace: `lo => up' brings its loopback interface up (default
%% `down', as `ip netns add' leaves it).

-type opts() :: #{timeout => timeout(), via => linx_opts:via()} | [{atom(), term()}].
%% `timeout' (default 5000 ms) and `via' as everywhere in linx.

-type error_reason() :: {bad_name, term()}
                      | {bad_option, term()}
                      | {bad_spec, term()}
                      | #{op := atom(), stage := atom(), errno := atom(),
                          code := non_neg_integer(), atom() => term()}
                      | linx_error:reason()
                      | linx_opts:error().

-define(SERVER, ?MODULE).

%%====================================================================
%% Named namespaces
%%====================================================================

%% @equiv add(Name, #{}, #{})
-spec add(name()) -> ok | {error, error_reason()}.
add(Name) ->
    add(Name, #{}, #{}).

%% @equiv add(Name, #{}, Opts)
-spec add(name(), opts()) -> ok | {error, error_reason()}.
add(Name, Opts) ->
    add(Name, #{}, Opts).

%% @doc Makes the named namespace `/run/netns/Name', as `ip netns add'
%% does (`/run/netns' is made, and made a shared mount point, if need be),
%% as `Spec' says ({@type spec()}).
%% `{error, #{stage := create, errno := eexist}}' if the name is taken.
-spec add(name(), spec(), opts()) -> ok | {error, error_reason()}.
add(Name, Spec, Opts) ->
    ?OWNED(case lo(Spec) of
               {ok, Lo} -> named(netns_add, Name, Opts, fun(Bin) -> {netns_add, Bin, Lo} end);
               {error, _} = Error -> Error
           end).

%% @equiv del(Name, #{})
-spec del(name()) -> ok | {error, error_reason()}.
del(Name) ->
    del(Name, #{}).

%% @doc Removes the named namespace, as `ip netns delete' does: the name
%% goes at once; the namespace itself lives on while a process is in it.
%% `{error, #{stage := unlink, errno := enoent}}' if there is no such name.
-spec del(name(), opts()) -> ok | {error, error_reason()}.
del(Name, Opts) ->
    ?OWNED(named(netns_del, Name, Opts, fun(Bin) -> {netns_delete, Bin} end)).

%% @equiv list(#{})
-spec list() -> {ok, [binary()]} | {error, error_reason()}.
list() ->
    list(#{}).

%% @doc The names in `/run/netns', sorted (none if it does not exist).
-spec list(opts()) -> {ok, [binary()]} | {error, error_reason()}.
list(Opts) ->
    ?OWNED(with_options(Opts, fun(#{timeout := T, via := Via}) ->
                                      Reply = linx_remote:request(netns_list, T, Via),
                                      names(netns_list, #{}, Reply)
                              end)).

%% @equiv exists(Name, #{})
-spec exists(name()) -> boolean() | {error, error_reason()}.
exists(Name) ->
    exists(Name, #{}).

%% @doc Whether `/run/netns/Name' exists.
-spec exists(name(), opts()) -> boolean() | {error, error_reason()}.
exists(Name, Opts) ->
    ?OWNED(case name(Name) of
               {ok, Bin} ->
                   case list(Opts) of
                       {ok, Names} -> lists:member(Bin, Names);
                       {error, _} = Error -> Error
                   end;
               {error, _} = Error ->
                   Error
           end).

%% @equiv identify(OsPid, #{})
-spec identify(pos_integer()) -> {ok, [binary()]} | {error, error_reason()}.
identify(OsPid) ->
    identify(OsPid, #{}).

%% @doc The names in `/run/netns' that are the network namespace of the
%% process `OsPid' (as `ip netns identify'): none when its namespace has
%% no name, several when names share one namespace.
-spec identify(pos_integer(), opts()) -> {ok, [binary()]} | {error, error_reason()}.
identify(OsPid, Opts) when is_integer(OsPid), OsPid > 0, OsPid < 16#80000000 ->
    ?OWNED(with_options(Opts, fun(#{timeout := T, via := Via}) ->
                                      names(netns_identify, #{pid => OsPid},
                                            linx_remote:request({netns_identify, OsPid}, T, Via))
                              end));
identify(OsPid, _Opts) ->
    ?OWNED({error, {bad_option, {pid, OsPid}}}).

%%====================================================================
%% Namespaces with no name
%%====================================================================

%% @equiv new(#{}, #{})
-spec new() -> {ok, handle()} | {error, error_reason()}.
new() ->
    new(#{}, #{}).

%% @equiv new(#{}, Opts)
-spec new(opts()) -> {ok, handle()} | {error, error_reason()}.
new(Opts) ->
    new(#{}, Opts).

%% @doc Makes a namespace with no name, owned by the calling process (see
%% the module documentation for its lifetime), as `Spec' says
%% ({@type spec()}). Option: `timeout'.
-spec new(spec(), opts()) -> {ok, handle()} | {error, error_reason()}.
new(Spec, Opts) ->
    ?OWNED(case lo(Spec) of
               {ok, Lo} ->
                   with_options(Opts, fun(#{via := Via}) when Via =/= local ->
                                              {error, {bad_option, {via, Via}}};
                                         (#{timeout := T}) ->
                                              server_call({new, self(), Lo, T}, T)
                                      end);
               {error, _} = Error ->
                   Error
           end).

%% @doc Lets go of a namespace made by {@link new/1}: it is gone once no
%% process is in it. Any process may release a handle it was given.
%% `{error, #{stage := open_ns, errno := enoent}}' for a handle released
%% already (or from a port program that has since stopped).
-spec release(handle()) -> ok | {error, error_reason()}.
release({linx_netns, Id} = Handle) when is_integer(Id), Id > 0 ->
    ?OWNED(server_call({release, Handle}, 5000));
release(Handle) ->
    ?OWNED({error, {bad_option, {handle, Handle}}}).

%% @doc The handles held for the calling process.
-spec owned() -> [handle()].
owned() ->
    case server_call({owned, self()}, 5000) of
        Handles when is_list(Handles) -> Handles;
        {error, _} -> []
    end.

%%====================================================================
%% Errors
%%====================================================================

%% @doc Renders an error of this module as one line of text (a flat
%% binary, no newline); {@link linx:format_error/1} renders any error.
-spec format_error(term()) -> unicode:unicode_binary().
format_error(Reason) ->
    linx_error:format_owned(Reason, fun format_reason/1).

-spec format_reason(term()) -> unicode:unicode_binary().
format_reason(#{op := netns_new, stage := busy, errno := held}) ->
    linx_error:line("netns new failed: the port program holds 4096 namespaces already "
                    "(the most it holds); release one, or let its owner exit");
format_reason(#{op := Op, stage := Stage, errno := Errno, code := Code} = Error) ->
    What = case Op of
               netns_add -> ["netns add ", linx_error:quote(maps:get(name, Error, <<>>))];
               netns_del -> ["netns del ", linx_error:quote(maps:get(name, Error, <<>>))];
               netns_list -> "netns list";
               netns_identify -> io_lib:format("netns identify ~b", [maps:get(pid, Error, 0)]);
               netns_new -> "netns new";
               netns_release -> "netns release"
           end,
    linx_error:line([What, " failed: ", atom_to_list(Stage), " ",
                     linx_error:term_text(Errno), linx_error:code_text(Code)]);
format_reason({bad_spec, Spec}) ->
    linx_error:invalid("netns spec", Spec, "#{} or #{lo => up | down}");
format_reason({bad_name, Name}) ->
    linx_error:invalid("netns name", Name, "1 to 255 bytes, not . or .., without / or NUL");
format_reason(Reason) ->
    linx_error:format_error(Reason).

%%====================================================================
%% The owner table (a gen_server started by linx_sup)
%%====================================================================

%% @private
-spec start_link() -> {ok, pid()} | ignore | {error, term()}.
start_link() ->
    gen_server:start_link({local, ?SERVER}, ?MODULE, [], []).

-record(state, {
    %% Handle id => {Owner, MonitorRef}
    held = #{} :: #{pos_integer() => {pid(), reference()}},
    %% The port process the held namespaces belong to, and its monitor.
    port = undefined :: undefined | {pid(), reference()}
}).

%% @private
-spec init([]) -> {ok, #state{}}.
init([]) ->
    {ok, #state{}}.

%% @private
-spec handle_call(term(), gen_server:from(), #state{}) -> {reply, term(), #state{}}.
handle_call({new, Owner, Lo, Timeout}, _From, State) ->
    case watch_port(State) of
        {ok, State1} ->
            case linx_port:request({netns_new, Lo}, Timeout) of
                {ok, Id} when is_integer(Id), Id > 0 ->
                    MRef = erlang:monitor(process, Owner),
                    Held = maps:put(Id, {Owner, MRef}, State1#state.held),
                    {reply, {ok, {linx_netns, Id}}, State1#state{held = Held}};
                Other ->
                    {reply, error_reply(netns_new, #{}, Other), State1}
            end;
        {error, _} = Error ->
            {reply, Error, State}
    end;
handle_call({release, {linx_netns, Id}}, _From, #state{held = Held} = State) ->
    case maps:take(Id, Held) of
        {{_Owner, MRef}, Held1} ->
            erlang:demonitor(MRef, [flush]),
            {reply, release_id(Id), State#state{held = Held1}};
        error ->
            %% Not ours (made before the port restarted, or released).
            {reply, release_id(Id), State}
    end;
handle_call({owned, Owner}, _From, #state{held = Held} = State) ->
    Handles = [{linx_netns, Id} || {Id, {O, _}} <- maps:to_list(Held), O =:= Owner],
    {reply, lists:sort(Handles), State};
handle_call(_Request, _From, State) ->
    {reply, {error, unknown_call}, State}.

%% @private
-spec handle_cast(term(), #state{}) -> {noreply, #state{}}.
handle_cast(_Msg, State) ->
    {noreply, State}.

%% @private
-spec handle_info(term(), #state{}) -> {noreply, #state{}}.
handle_info({'DOWN', MRef, process, Pid, _}, #state{port = {Pid, MRef}, held = Held} = State) ->
    %% The port program is gone, and every namespace it held with it.
    maps:foreach(fun(Id, {Owner, OwnerRef}) ->
                         erlang:demonitor(OwnerRef, [flush]),
                         Owner ! {linx_netns_released, {linx_netns, Id}, port_exited}
                 end, Held),
    {noreply, State#state{held = #{}, port = undefined}};
handle_info({'DOWN', MRef, process, Owner, _}, #state{held = Held} = State) ->
    Mine = [Id || {Id, {O, R}} <- maps:to_list(Held), O =:= Owner, R =:= MRef],
    lists:foreach(fun(Id) -> _ = release_id(Id) end, Mine),
    {noreply, State#state{held = maps:without(Mine, Held)}};
handle_info(_Msg, State) ->
    {noreply, State}.

%%====================================================================
%% Internal
%%====================================================================

%% Monitor the running port process (the namespaces it holds die with it).
-spec watch_port(#state{}) -> {ok, #state{}} | {error, not_running}.
watch_port(#state{port = {Pid, _}} = State) when is_pid(Pid) ->
    case whereis(linx_port) of
        Pid -> {ok, State};
        _ -> watch_port(State#state{port = undefined})
    end;
watch_port(State) ->
    case whereis(linx_port) of
        Pid when is_pid(Pid) ->
            {ok, State#state{port = {Pid, erlang:monitor(process, Pid)}}};
        undefined ->
            {error, not_running}
    end.

-spec release_id(pos_integer()) -> ok | {error, error_reason()}.
release_id(Id) ->
    case linx_port:request({netns_release, Id}, 5000) of
        ok -> ok;
        Other -> error_reply(netns_release, #{}, Other)
    end.

-spec server_call(term(), timeout()) -> term().
server_call(Request, Timeout) ->
    %% The server waits at most Timeout for the port; leave it room to answer.
    CallTimeout = case Timeout of
                      infinity -> infinity;
                      T -> T + 1000
                  end,
    try
        gen_server:call(?SERVER, Request, CallTimeout)
    catch
        exit:{noproc, _} -> {error, not_running};
        exit:{timeout, _} -> {error, timeout}
    end.

-spec named(atom(), term(), term(), fun((binary()) -> term())) ->
          ok | {error, error_reason()}.
named(Op, Name, Opts, MakeOp) ->
    case name(Name) of
        {ok, Bin} ->
            with_options(Opts, fun(#{timeout := T, via := Via}) ->
                                       case linx_remote:request(MakeOp(Bin), T, Via) of
                                           ok -> ok;
                                           Other -> error_reply(Op, #{name => Bin}, Other)
                                       end
                               end);
        {error, _} = Error ->
            Error
    end.

-spec name(term()) -> {ok, binary()} | {error, {bad_name, term()}}.
name(Name) ->
    case linx_opts:target({netns, Name}) of
        {ok, {netns, Bin}} -> {ok, Bin};
        {error, _} -> {error, {bad_name, Name}}
    end.

%% Check the options (`timeout' and `via'; any other key, `in' and `lo'
%% included, is refused) and run F with them as a map of timeout and via.
-spec with_options(term(), fun((map()) -> Result)) -> Result | {error, error_reason()}.
with_options(Opts, F) ->
    case linx_opts:options(Opts, [timeout, via]) of
        {ok, #{timeout := Timeout, via := Via}} -> F(#{timeout => Timeout, via => Via});
        {error, _} = Error -> Error
    end.

%% Whether the loopback interface of a new namespace is to be up.
-spec lo(term()) -> {ok, boolean()} | {error, {bad_spec, term()}}.
lo(Spec) when is_map(Spec) ->
    case maps:to_list(Spec) of
        [] -> {ok, false};
        [{lo, up}] -> {ok, true};
        [{lo, down}] -> {ok, false};
        _ -> {error, {bad_spec, Spec}}
    end;
lo(Spec) ->
    {error, {bad_spec, Spec}}.

-spec names(atom(), map(), term()) -> {ok, [binary()]} | {error, error_reason()}.
names(Op, Context, {ok, Names} = Reply) when is_list(Names) ->
    case lists:all(fun is_binary/1, Names) of
        true -> Reply;
        false -> error_reply(Op, Context, Reply)
    end;
names(Op, Context, Other) ->
    error_reply(Op, Context, Other).

-spec error_reply(atom(), map(), term()) -> {error, error_reason()}.
error_reply(Op, Context, Reply) ->
    linx_error:reply(Reply, Context#{op => Op}).
