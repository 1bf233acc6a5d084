%% @doc The argument checks of {@link linx_rtnl_req}'s requests, made to
%% run one after another inside {@link checked/1}: each returns what it
%% checked or throws the reason it was given (`Bad'), and
%% {@link checked/1} turns the first throw into `{error, Reason}'. Names
%% are those of the names tables of {@link linx_rtnl_tables}.
-module(linx_rtnl_args).

-export([checked/1, ok_or_throw/1, ok_or_throw/2]).
-export([name/3, family/2, mask/3, check_text/2]).

-define(MSG, linx_rtnl_msg).

%%====================================================================
%% Running checks
%%====================================================================

%% @doc `Build()', or `{error, Reason}' when a check inside it threw
%% `Reason' (a thrown `{error, _}' is returned as it is).
-spec checked(fun(() -> T)) -> T | {error, term()}.
checked(Build) ->
    try
        Build()
    catch
        throw:{error, _} = Error -> Error;
        throw:Reason -> {error, Reason}
    end.

%% @doc An `{ok, _}' as it is; an `{error, _}' is thrown.
-spec ok_or_throw({ok, T} | {error, term()}) -> {ok, T}.
ok_or_throw({ok, _} = Ok) -> Ok;
ok_or_throw({error, _} = Error) -> throw(Error).

%% @doc An `{ok, _}' or `{ok, _, _}' as it is; anything else throws
%% `Reason'.
-spec ok_or_throw(term(), term()) -> {ok, term()} | {ok, term(), term()}.
ok_or_throw({ok, _} = Ok, _Reason) -> Ok;
ok_or_throw({ok, _, _} = Ok, _Reason) -> Ok;
ok_or_throw(_, Reason) -> throw(Reason).

%%====================================================================
%% Checks
%%====================================================================

%% @doc The number of a name of names table `Table' (or a number 0..255
%% as it is); anything else throws `Bad'.
-spec name(term(), atom(), term()) -> integer().
name(N, _Table, _Bad) when is_integer(N), N >= 0, N =< 255 ->
    N;
name(Name, Table, Bad) when is_atom(Name) ->
    case lists:keyfind(Name, 1, ?MSG:names(Table)) of
        {_, N} -> N;
        false -> throw(Bad)
    end;
name(_, _Table, Bad) ->
    throw(Bad).

%% @doc An address family by name or number, as
%% {@link linx_nl_values:ip_bytes/1} names it (a number when it has no
%% name); anything else throws `Bad'.
-spec family(term(), term()) -> atom() | integer().
family(F, Bad) ->
    N = name(F, family, Bad),
    case lists:keyfind(N, 2, ?MSG:names(family)) of
        {Name, _} -> Name;
        false -> N
    end.

%% @doc The bit mask of a list of names of names table `Table'; anything
%% else throws `Bad'.
-spec mask(term(), atom(), term()) -> integer().
mask(Names, Table, Bad) when is_list(Names) ->
    All = ?MSG:names(Table),
    lists:foldl(fun(Name, Acc) ->
                        case lists:keyfind(Name, 1, All) of
                            {_, Bit} -> Acc bor Bit;
                            false -> throw(Bad)
                        end
                end, 0, Names);
mask(_, _Table, Bad) ->
    throw(Bad).

%% @doc `ok' when `T' is text ({@link linx_opts:text/1}); anything else
%% throws `Bad'.
-spec check_text(term(), term()) -> ok.
check_text(T, Bad) ->
    case linx_opts:text(T) of
        {ok, _} -> ok;
        error -> throw(Bad)
    end.
