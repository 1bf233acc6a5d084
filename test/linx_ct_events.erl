%% @doc A subscriber's side of linx's event subscriptions
%% (linx_rtnl:subscribe/2, linx_nft:subscribe/2), for the suites that
%% check them: the next event, the first that matches, and a view kept
%% from the events and made whole again by each resync.
-module(linx_ct_events).

-export([next/2, first/3, follow/5]).

%% @doc The next event `{Tag, Ref, Event}' in the mailbox (waiting up to
%% 10 s; the case fails without one).
-spec next(atom(), reference()) -> term().
next(Tag, Ref) ->
    receive
        {Tag, Ref, Event} -> Event
    after 10000 ->
        ct:fail(no_event)
    end.

%% @doc The first event of `Ref' for which `Pred' holds.
-spec first(atom(), reference(), fun((term()) -> boolean())) -> term().
first(Tag, Ref, Pred) ->
    Event = next(Tag, Ref),
    case Pred(Event) of
        true -> Event;
        false -> first(Tag, Ref, Pred)
    end.

%% @doc Events of `Ref' applied to `View' (`Apply(Events, View)') until
%% `Done(View)' holds, each `{resync, Objects}' starting the view again
%% from its objects; the view, and how many resyncs came. An error event
%% fails the case.
-spec follow(atom(), reference(), fun((list(), View) -> View), View, fun((View) -> boolean())) ->
          {View, non_neg_integer()}.
follow(Tag, Ref, Apply, View, Done) ->
    follow(Tag, Ref, Apply, View, Done, 0).

follow(Tag, Ref, Apply, View, Done, Resyncs) ->
    case Done(View) of
        true ->
            {View, Resyncs};
        false ->
            case next(Tag, Ref) of
                {resync, Objects} -> follow(Tag, Ref, Apply, Apply(Objects, #{}), Done, Resyncs + 1);
                {error, _} = Error -> ct:fail({unexpected, Error});
                Event -> follow(Tag, Ref, Apply, Apply([Event], View), Done, Resyncs)
            end
    end.
